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
 * `bytes` is the request's decoded size, charged against the admission limit while in flight.
 */
export interface Exporter {
  export<S extends Signal>(signal: S, request: SignalRequests[S], bytes: number): Promise<ExportResult>;
}
