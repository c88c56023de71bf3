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
 * `body` is the request as decoded from the wire (decompressed): its size is charged against the
 * admission limit while the request is in flight, and its digest identifies a retry of it.
 */
export interface Exporter {
  export<S extends Signal>(signal: S, request: SignalRequests[S], body: Uint8Array): Promise<ExportResult>;
}
