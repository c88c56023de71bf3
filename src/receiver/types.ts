import type { Logger } from 'pino';
import type { HeadMemo } from '../decode/index.js';
import type { Signal } from '../decode/types.js';
import type { Reason } from '../errors.js';
import type { Exporter } from '../pipeline/types.js';
import type { TlsFiles } from './tls.js';

/** What both transports need to start. */
export interface ReceiverOptions {
  readonly host: string;
  /** 0 binds a free port; `Receiver.port` tells which. */
  readonly port: number;
  /** Upper bound on a request body, checked on the wire and again after decompression. */
  readonly maxRequestBytes: number;
  readonly exporter: Exporter;
  readonly logger: Logger;
  /** Told of every answer to an export request (self-telemetry). */
  readonly onAnswer?: (signal: Signal, outcome: 'success' | Reason) => void;
  /** Serve over TLS with these PEM files (read once, at start); plain text when absent. */
  readonly tls?: TlsFiles;
  /** Bearer tokens, any one of which a request must carry; none (or empty) turns authentication off. */
  readonly authTokens?: readonly string[];
  /** Resources and scopes decoded lately, shared by the receivers of one process. */
  readonly heads?: HeadMemo;
}

/** A listening OTLP transport (HTTP or gRPC), as returned by its start function. */
export interface Receiver {
  /** The address actually bound. */
  readonly host: string;
  /** The port actually bound: differs from the requested one when that was 0. */
  readonly port: number;
  /** The URL scheme clients use: `https` when serving TLS (OTEL_EXPORTER_OTLP_ENDPOINT takes it for gRPC too). */
  readonly scheme: 'http' | 'https';
  /** Stop accepting, let in-flight requests finish (up to deadlineMs), then close. Idempotent. */
  shutdown(deadlineMs: number): Promise<void>;
}
