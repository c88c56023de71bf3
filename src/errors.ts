// Every failure a client can see is one of these, and this file's table is the only place that decides
// which gRPC code and HTTP status it becomes. The rule comes from the OTLP specification
// (opentelemetry-proto docs/specification.md, "Failures"): retryable failures carry a delay hint
// (gRPC RetryInfo, HTTP Retry-After); permanent ones must not be retried by the client.
// Cf. the Collector's internal/errors/errors.go.

/** Why a request or its items were refused: a closed set, the `reason` label of the metrics. */
export type Reason =
  | 'invalid'
  | 'too_large'
  | 'unsupported'
  | 'unauthenticated'
  | 'partial'
  | 'overloaded'
  | 'unavailable'
  | 'timeout'
  | 'shutdown'
  | 'rejected'
  | 'internal';

/** Which bound of admission refused a request: the `limit` label of otlp_pg_admission_refused_total. */
export type AdmissionLimit = 'requests' | 'bytes' | 'queue_delay';

export type ErrorKind =
  | 'invalid_argument' // the request cannot be decoded or is not OTLP: permanent
  | 'too_large' // body over the configured limit: permanent
  | 'unsupported_media_type' // unknown Content-Type or Content-Encoding: permanent
  | 'not_found' // unknown path
  | 'method_not_allowed' // not POST
  | 'data_rejected' // PostgreSQL refused the request's rows (22xxx, 23xxx …): permanent
  | 'unavailable' // database down or slow: retryable
  | 'overloaded' // admission limit reached: retryable
  | 'timed_out' // not written by the request timeout, and now never will be: retryable
  | 'shutting_down' // otlp-pg is stopping: retryable (elsewhere, or after the restart)
  | 'unauthenticated'
  | 'internal'; // a bug: permanent, so a client never loops on it

export class OtlpError extends Error {
  override readonly name = 'OtlpError';
  constructor(
    readonly kind: ErrorKind,
    message: string,
    /** For retryable kinds: how long the client should wait before retrying. */
    readonly retryAfterMs?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const invalidArgument = (message: string, cause?: unknown): OtlpError =>
  new OtlpError('invalid_argument', message, undefined, { cause });

export const unavailable = (message: string, retryAfterMs: number, cause?: unknown): OtlpError =>
  new OtlpError('unavailable', message, retryAfterMs, { cause });

/** gRPC status codes we use (https://grpc.github.io/grpc/core/md_doc_statuscodes.html). */
export const GrpcCode = {
  OK: 0,
  INVALID_ARGUMENT: 3,
  NOT_FOUND: 5,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

interface Outcome {
  readonly grpc: number;
  readonly http: number;
  readonly retryable: boolean;
  /** The `reason` label of otlp-pg's refusal metrics (src/telemetry/metrics.ts). */
  readonly reason: Reason;
}

const OUTCOMES: Readonly<Record<ErrorKind, Outcome>> = Object.freeze({
  invalid_argument: { grpc: GrpcCode.INVALID_ARGUMENT, http: 400, retryable: false, reason: 'invalid' },
  // RESOURCE_EXHAUSTED without RetryInfo is how the spec says "too large, do not retry".
  too_large: { grpc: GrpcCode.RESOURCE_EXHAUSTED, http: 413, retryable: false, reason: 'too_large' },
  unsupported_media_type: { grpc: GrpcCode.INVALID_ARGUMENT, http: 415, retryable: false, reason: 'unsupported' },
  not_found: { grpc: GrpcCode.UNIMPLEMENTED, http: 404, retryable: false, reason: 'unsupported' },
  method_not_allowed: { grpc: GrpcCode.UNIMPLEMENTED, http: 405, retryable: false, reason: 'unsupported' },
  data_rejected: { grpc: GrpcCode.INVALID_ARGUMENT, http: 400, retryable: false, reason: 'rejected' },
  unavailable: { grpc: GrpcCode.UNAVAILABLE, http: 503, retryable: true, reason: 'unavailable' },
  timed_out: { grpc: GrpcCode.UNAVAILABLE, http: 503, retryable: true, reason: 'timeout' },
  overloaded: { grpc: GrpcCode.UNAVAILABLE, http: 503, retryable: true, reason: 'overloaded' },
  shutting_down: { grpc: GrpcCode.UNAVAILABLE, http: 503, retryable: true, reason: 'shutdown' },
  unauthenticated: { grpc: GrpcCode.UNAUTHENTICATED, http: 401, retryable: false, reason: 'unauthenticated' },
  internal: { grpc: GrpcCode.INTERNAL, http: 500, retryable: false, reason: 'internal' },
});

export function outcomeOf(kind: ErrorKind): Outcome {
  return OUTCOMES[kind];
}

/** Anything thrown that is not an OtlpError is a bug; it must still reach the client as a status. */
export function toOtlpError(err: unknown): OtlpError {
  if (err instanceof OtlpError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new OtlpError('internal', `internal error: ${message}`, undefined, { cause: err });
}
