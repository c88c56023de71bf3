// Response bodies, written in the encoding of the request they answer: the Export*ServiceResponse
// of a successful export, and the google.rpc.Status of a failure (OTLP/HTTP error bodies, and the
// gRPC `grpc-status-details-bin` trailer that carries RetryInfo to clients).
import type { Type } from 'protobufjs';
import { lookupType } from './protobuf.js';
import type { Encoding, Signal } from './types.js';

const RESPONSES: { readonly [S in Signal]: { readonly type: Type; readonly rejectedField: string } } = {
  traces: {
    type: lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse'),
    rejectedField: 'rejectedSpans',
  },
  logs: {
    type: lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse'),
    rejectedField: 'rejectedLogRecords',
  },
  metrics: {
    type: lookupType('opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse'),
    rejectedField: 'rejectedDataPoints',
  },
};
const STATUS = lookupType('google.rpc.Status');
const RETRY_INFO = lookupType('google.rpc.RetryInfo');
const RETRY_INFO_URL = 'type.googleapis.com/google.rpc.RetryInfo';
// protobufjs substitutes its bundled google/protobuf/*.proto for ours, and the bundled Any keeps the
// proto field name (type_url, not typeUrl): ask the loaded type rather than assume either.
const ANY_TYPE_URL = lookupType('google.protobuf.Any').fieldsById[1]?.name ?? 'typeUrl';

const EMPTY_PROTOBUF = Buffer.alloc(0);
const EMPTY_JSON = Buffer.from('{}');

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * The Export*ServiceResponse for an export that succeeded, fully or in part. Zero rejected with no
 * message is full success, sent as the empty message. Otherwise partial_success carries the count
 * and message; in JSON the count is a number, not the mapping's int64 string, because the OTel JS
 * exporters only JSON.parse the body, and a number reads naturally there (protojson accepts both).
 */
export function encodeExportResponse(
  signal: Signal,
  encoding: Encoding,
  result: { readonly rejected: number; readonly message: string },
): Buffer {
  if (result.rejected === 0 && result.message === '') return encoding === 'json' ? EMPTY_JSON : EMPTY_PROTOBUF;
  const partialSuccess: Record<string, number | string> = {};
  if (result.rejected !== 0) partialSuccess[RESPONSES[signal].rejectedField] = result.rejected;
  if (result.message !== '') partialSuccess.errorMessage = result.message;
  if (encoding === 'json') return Buffer.from(JSON.stringify({ partialSuccess }));
  return asBuffer(RESPONSES[signal].type.encode({ partialSuccess }).finish());
}

/** A google.rpc.Duration of whole milliseconds, as its fields. */
function duration(ms: number): { seconds: number; nanos: number } {
  const whole = Math.max(0, Math.round(ms));
  return { seconds: Math.floor(whole / 1000), nanos: (whole % 1000) * 1_000_000 };
}

/**
 * A google.rpc.Status, the body of an OTLP/HTTP failure, with a RetryInfo detail when the client
 * should retry after retryAfterMs. JSON follows the proto3 mapping: Any as "@type" plus the
 * message's fields, Duration as a decimal-seconds string such as "1.500s".
 */
export function encodeStatus(encoding: Encoding, code: number, message: string, retryAfterMs?: number): Buffer {
  if (encoding === 'json') {
    const status: Record<string, unknown> = { code, message };
    if (retryAfterMs !== undefined) {
      const { seconds, nanos } = duration(retryAfterMs);
      const fraction = nanos === 0 ? '' : `.${String(nanos / 1_000_000).padStart(3, '0')}`;
      status.details = [{ '@type': RETRY_INFO_URL, retryDelay: `${seconds}${fraction}s` }];
    }
    return Buffer.from(JSON.stringify(status));
  }
  const details =
    retryAfterMs === undefined
      ? []
      : [{ [ANY_TYPE_URL]: RETRY_INFO_URL, value: RETRY_INFO.encode({ retryDelay: duration(retryAfterMs) }).finish() }];
  return asBuffer(STATUS.encode({ code, message, details }).finish());
}

/** The serialized google.rpc.Status with RetryInfo that grpc-js sends as `grpc-status-details-bin`. */
export function encodeGrpcStatusDetails(code: number, message: string, retryAfterMs: number): Buffer {
  return encodeStatus('protobuf', code, message, retryAfterMs);
}
