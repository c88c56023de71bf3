import type { Signal, SignalRequests } from '../decode/types.js';

/**
 * What a successful export tells the client: how many items were refused and why
 * (OTLP partial success). `rejected === 0` with an empty message is plain success.
 */
export interface ExportResult {
  readonly rejected: number;
  readonly message: string;
}

/**
 * The one per-signal entry point behind both transports. Resolves only once every stored row
 * of the request is committed; rejects with an OtlpError (see src/errors.ts) otherwise.
 * `body` is the request as read from the wire (decompressed): its size is charged against the
 * admission limit while the request is in flight, and its digest identifies a retry of it.
 * `decode` turns it into the request; it runs only once the request is admitted, so a refused
 * request costs no decoding and holds no decoded objects.
 */
export interface Exporter {
  export<S extends Signal>(signal: S, body: Uint8Array, decode: (body: Uint8Array) => SignalRequests[S]): Promise<ExportResult>;
}
