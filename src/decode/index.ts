// decode/: request bodies in, the request shape of ./types.ts out; response bodies back.
import type { HeadMemo } from './head-memo.js';
import { decodeJsonRequest } from './json.js';
import { decodeProtobufRequest } from './protobuf.js';
import type { Encoding, Signal, SignalRequests } from './types.js';

/**
 * Decodes an OTLP Export*ServiceRequest body; undecodable input throws invalidArgument (src/errors.ts).
 * `memo` lets protobuf requests skip walking the resources and scopes earlier requests carried.
 * Plain attributes of protobuf spans, log records and data points stay bytes in `body` (./wire-attributes.ts),
 * which therefore must not change while the request's rows are alive.
 */
export function decodeRequest<S extends Signal>(signal: S, body: Uint8Array, encoding: Encoding, memo?: HeadMemo): SignalRequests[S] {
  return encoding === 'json' ? decodeJsonRequest(signal, body) : decodeProtobufRequest(signal, body, memo, true);
}

export { HeadMemo } from './head-memo.js';

export { PROTO_DIR } from './protobuf.js';
export { encodeExportResponse, encodeGrpcStatusDetails, encodeStatus } from './response.js';
