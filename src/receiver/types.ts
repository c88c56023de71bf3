import type { Logger } from 'pino';
import type { Signal } from '../decode/types.js';
import type { Reason } from '../errors.js';
import type { Exporter } from '../pipeline/types.js';

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
}

/** A listening OTLP transport (HTTP or gRPC), as returned by its start function. */
export interface Receiver {
  /** The address actually bound. */
  readonly host: string;
  /** The port actually bound: differs from the requested one when that was 0. */
  readonly port: number;
  /** Stop accepting, let in-flight requests finish (up to deadlineMs), then close. Idempotent. */
  shutdown(deadlineMs: number): Promise<void>;
}
