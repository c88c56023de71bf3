// Random OTLP/protobuf requests for the differential tests of the decoder: any field of the schema in
// proto/ may appear, known-but-unused ones (entity_refs, the *_strindex fields) included, with values
// at the edges of their types (64-bit extremes, negative int64, NaN and ±0, empty, non-ASCII and long
// strings, empty bytes). protobufjs encodes them: an encoder independent of the decoder under test.
import protobuf from 'protobufjs';
import { lookupType } from '../../src/decode/protobuf.js';
import type { Signal } from '../../src/decode/types.js';

/** mulberry32: small, seeded, good enough to pick test values. */
export class Rng {
  constructor(private state: number) {}
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(list: readonly T[]): T {
    return list[this.int(0, list.length - 1)] as T;
  }
}

const REQUEST_TYPES: Record<Signal, string> = {
  traces: 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest',
  logs: 'opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest',
  metrics: 'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest',
};

const STRINGS = ['', 'k', 'service.name', 'http.request.method', 'GET /api/cart', 'exactly 16 chars'];
STRINGS.push('héllo wörld', '日本語', '🎉', 'x'.repeat(200), `${'é'.repeat(40)}!`);
const DOUBLES = [0, -0, 1, -2.5, 0.1, NaN, Infinity, -Infinity, Number.MAX_VALUE, Number.MIN_VALUE, 2 ** 53 + 2];
const INT32 = [0, 1, -1, 2, 127, 128, 300, 2147483647, -2147483648];
const UINT32 = [0, 1, 127, 128, 16384, 2147483648, 4294967295];
const INT64 = ['0', '1', '-1', '-5', '127', '9007199254740993', '9223372036854775807', '-9223372036854775808'];
const UINT64 = ['0', '1', '128', '1700000000123456789', '9007199254740993', '18446744073709551615'];

function scalar(type: string, rng: Rng): unknown {
  switch (type) {
    case 'double':
      return rng.next() < 0.5 ? rng.pick(DOUBLES) : (rng.next() - 0.5) * 10 ** rng.int(-5, 12);
    case 'int32':
    case 'sint32':
      return rng.next() < 0.6 ? rng.pick(INT32) : rng.int(-100000, 100000);
    case 'uint32':
    case 'fixed32':
      return rng.next() < 0.6 ? rng.pick(UINT32) : rng.int(0, 100000);
    case 'int64':
    case 'sfixed64':
      return rng.next() < 0.7 ? rng.pick(INT64) : String(rng.int(-1e9, 1e9));
    case 'uint64':
    case 'fixed64':
      return rng.next() < 0.7 ? rng.pick(UINT64) : String(rng.int(0, 1e9));
    case 'bool':
      return rng.next() < 0.5;
    case 'string':
      return rng.pick(STRINGS);
    case 'bytes':
      return Buffer.from(Array.from({ length: rng.pick([0, 1, 8, 16, 20]) }, () => rng.int(0, 255)));
    default:
      throw new Error(`no random ${type}`);
  }
}

function fieldValue(field: protobuf.Field, rng: Rng, depth: number): unknown {
  const resolved = field.resolve().resolvedType;
  if (resolved instanceof protobuf.Type) return message(resolved, rng, depth + 1);
  if (resolved instanceof protobuf.Enum) {
    return rng.next() < 0.8 ? rng.pick(Object.values(resolved.values)) : rng.int(-3, 40);
  }
  return scalar(field.type, rng);
}

/** A message with a random subset of its fields; AnyValues beyond a few levels hold scalars only. */
function message(type: protobuf.Type, rng: Rng, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const shallow = depth < 9;
  for (const field of type.fieldsArray) {
    if (field.partOf !== null || rng.next() < 0.35) continue;
    const nested = field.resolve().resolvedType instanceof protobuf.Type;
    if (field.repeated) {
      const count = nested && !shallow ? 0 : rng.int(0, nested ? 3 : 4);
      out[field.name] = Array.from({ length: count }, () => fieldValue(field, rng, depth));
    } else if (!nested || shallow) out[field.name] = fieldValue(field, rng, depth);
  }
  // At most one member of each oneof (proto3 `optional` fields are oneofs of one).
  for (const oneof of type.oneofsArray) {
    if (rng.next() < 0.2) continue;
    const members = oneof.fieldsArray.filter((f) => shallow || !(f.resolve().resolvedType instanceof protobuf.Type));
    if (members.length > 0) {
      const field = rng.pick(members);
      out[field.name] = fieldValue(field, rng, depth);
    }
  }
  return out;
}

/** A random Export*ServiceRequest of `signal`, the same for the same seed. */
export function randomRequest(signal: Signal, seed: number): Uint8Array {
  const type = lookupType(REQUEST_TYPES[signal]);
  return type.encode(type.fromObject(message(type, new Rng(seed), 0))).finish();
}

/** `body` with a few random byte-level edits: changed, inserted, deleted bytes, or a cut. */
export function mutate(body: Uint8Array, rng: Rng): Uint8Array {
  const bytes = Array.from(body);
  for (let edits = rng.int(1, 3); edits > 0; edits--) {
    const at = rng.int(0, Math.max(0, bytes.length - 1));
    const kind = rng.int(0, 4);
    if (kind === 0) bytes[at] = rng.int(0, 255);
    else if (kind === 1) bytes[at] = (bytes[at] ?? 0) ^ (1 << rng.int(0, 7));
    else if (kind === 2) bytes.splice(at, 0, rng.int(0, 255));
    else if (kind === 3) bytes.splice(at, 1);
    else bytes.length = at;
  }
  return Uint8Array.from(bytes);
}
