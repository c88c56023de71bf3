import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { BINARY_HEADER, BINARY_TRAILER } from './copy-binary.js';

const BINARY = /\(\s*FORMAT\s+binary\s*\)\s*$/i;

/**
 * Streams one `COPY … FROM STDIN` payload, given in parts (one per request of a batch). With
 * `(FORMAT binary)` the parts are rows only (copy-binary.ts): the stream's one header goes before
 * them and its one trailer after. Resolves when the server has acknowledged CopyDone (the rows are
 * in the transaction, not yet committed); on error the stream sends CopyFail and the transaction
 * is aborted.
 */
export async function copyIn(client: pg.ClientBase, sql: string, parts: readonly Buffer[]): Promise<void> {
  const chunks = BINARY.test(sql) ? [BINARY_HEADER, ...parts, BINARY_TRAILER] : parts;
  await pipeline(Readable.from(chunks), client.query(copyFrom(sql)));
}
