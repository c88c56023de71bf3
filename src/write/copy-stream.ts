import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/**
 * Streams one COPY … FROM STDIN payload, given in parts (one per request of a batch). Resolves when the server has acknowledged CopyDone (the
 * rows are in the transaction, not yet committed); on error the stream sends CopyFail and the
 * transaction is aborted.
 */
export async function copyIn(client: pg.ClientBase, sql: string, parts: readonly Buffer[]): Promise<void> {
  await pipeline(Readable.from(parts), client.query(copyFrom(sql)));
}
