import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/**
 * Streams one COPY … FROM STDIN payload. Resolves when the server has acknowledged CopyDone (the
 * rows are in the transaction, not yet committed); on error the stream sends CopyFail and the
 * transaction is aborted.
 */
export async function copyIn(client: pg.ClientBase, sql: string, payload: Buffer): Promise<void> {
  await pipeline(Readable.from([payload]), client.query(copyFrom(sql)));
}
