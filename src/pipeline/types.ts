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
 * The one per-signal entry point behind both transports. A request first takes a place (`admit`),
 * before its body is read, so a refusal costs neither reading nor decoding: it throws an OtlpError
 * (see src/errors.ts) when the signal is not served, the server is stopping, or a bound of admission
 * is reached.
 */
export interface Exporter {
  admit<S extends Signal>(signal: S): Admitted<S>;
}

export interface ExportOptions {
  /**
   * The client's own deadline, in ms from now (gRPC sends one): past it, the client has given up, so
   * a request not yet written is dropped like one past the server's --request-timeout.
   */
  readonly clientTimeoutMs?: number;
}

/** A request let in. Exactly one of its two methods is called. */
export interface Admitted<S extends Signal> {
  /**
   * Resolves only once every stored row of the request is committed; rejects with an OtlpError
   * otherwise. `body` is the request as read from the wire (decompressed): its size is charged
   * against the in-flight bound while the request is held, and its digest identifies a retry of it.
   * `decode` turns it into the request.
   */
  export(body: Uint8Array, decode: (body: Uint8Array) => SignalRequests[S], options?: ExportOptions): Promise<ExportResult>;
  /** Gives the place back: the body could not be read. */
  cancel(): void;
}
