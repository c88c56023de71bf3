// What every OTLP/protobuf walk shares: the schema (loaded by protobufjs, which ./response.ts encodes
// with and whose types name the fields in our error messages), the plumbing of a message walk, and the
// walks of the messages of common.proto and resource.proto. Each walk reads its message's fields off
// the wire (./protobuf-reader.ts) and builds the ./types.ts object directly.
//
// Cases read `F << 3 | W`: field F with wire type W (0 varint, 1 64-bit, 2 length-delimited, 5 32-bit).
// A known field with any other wire type is refused, as the Collector does; unknown ones (newer
// OTLP) are skipped.
import { join } from 'node:path';
import Long from 'long';
import protobuf from 'protobufjs';
import { invalidArgument } from '../errors.js';
import { packageRoot } from '../package-root.js';
import { HeadMemo, type Heads } from './head-memo.js';
import { Reader, WireError } from './protobuf-reader.js';
import type * as otlp from './types.js';

/** Deepest AnyValue nesting accepted (an attribute value or log body is depth 1); OTLP/JSON uses the same. */
const MAX_ANY_VALUE_DEPTH = 64;

/** Root of the .proto files, e.g. for @grpc/proto-loader's includeDirs. */
export const PROTO_DIR = join(packageRoot, 'proto');

const PROTO_FILES = [
  'opentelemetry/proto/collector/trace/v1/trace_service.proto',
  'opentelemetry/proto/collector/logs/v1/logs_service.proto',
  'opentelemetry/proto/collector/metrics/v1/metrics_service.proto',
  'google/rpc/status.proto',
  'google/rpc/error_details.proto',
];

// Without a Long implementation protobufjs turns 64-bit fields into lossy JS numbers.
protobuf.util.Long = Long as unknown as typeof protobuf.util.Long;
protobuf.configure();

const root = new protobuf.Root();
root.resolvePath = (_origin, target) => join(PROTO_DIR, target);
root.loadSync(PROTO_FILES);
root.resolveAll();

/** A message type of proto/ by full name, e.g. for encoding responses. */
export function lookupType(fullName: string): protobuf.Type {
  return root.lookupType(fullName);
}

/** An OTLP message type, by its name under opentelemetry.proto. */
export const otel = (name: string): protobuf.Type => lookupType(`opentelemetry.proto.${name}`);

// ---- plumbing

/** Walks one message from r.pos to end. `n` is the AnyValue depth, or the oneof field of metric data. */
export type Walk<T> = (r: Reader, end: number, n: number) => T;

export const EMPTY_VALUE: otlp.AnyValue = Object.freeze({ kind: 'empty' });
export const NO_NUMBER: otlp.NumberValue = Object.freeze({ kind: 'none' });
export const EMPTY_DATA: otlp.MetricData = Object.freeze({ type: 'empty' });

/** Skips a field the walk does not read; refuses it if the message knows it under another wire type. */
export function other(r: Reader, tag: number, end: number, type: protobuf.Type): void {
  r.skip(tag, end);
  const field = type.fieldsById[tag >>> 3];
  if (field !== undefined) {
    throw invalidArgument(`invalid protobuf: field ${type.name}.${field.name} (${tag >>> 3}) has wire type ${tag & 7}`);
  }
}

// A singular message field sent more than once is merged, as protobuf requires and protobufjs did:
// the same as walking the concatenation of its occurrences. So such fields are walked after their
// parent's loop, from the range(s) they were seen at; merging eagerly instead would walk nested
// duplicates once per enclosing one, exponentially.

/** The ranges of a singular field seen again, as [start, end, start, end …]; undefined the first time. */
export function again(
  more: number[] | undefined,
  at: number,
  atEnd: number,
  start: number,
  end: number,
): number[] | undefined {
  if (at < 0) return undefined;
  if (more === undefined) return [at, atEnd, start, end];
  more.push(start);
  more.push(end);
  return more;
}

/** Walks a singular field after its parent's loop: at [at, end), or merged from the ranges in `more`. */
export function embedded<T>(
  r: Reader,
  at: number,
  end: number,
  more: number[] | undefined,
  walk: Walk<T>,
  n: number,
): T {
  if (more !== undefined) {
    let size = 0;
    for (let i = 0; i < more.length; i += 2) size += more[i + 1]! - more[i]!;
    const bytes = Buffer.allocUnsafe(size);
    for (let i = 0, to = 0; i < more.length; i += 2) {
      const start = more[i]!;
      const end = more[i + 1]!;
      // A native copy per range costs more than copying a few bytes, and a hostile body has many.
      if (end - start > 64) to += r.buf.copy(bytes, to, start, end);
      else for (let at = start; at < end; at++) bytes[to++] = r.buf[at]!;
    }
    const merged = new Reader(bytes);
    return walk(merged, merged.len, n);
  }
  const resume = r.pos;
  r.pos = at;
  const value = walk(r, end, n);
  r.pos = resume;
  return value;
}

// A oneof member replaced by a later one is never walked, but protobufjs decoded it before the later
// one replaced it. So it is checked as protobufjs' decoder checked it: what that refused (truncation,
// bad UTF-8 …) is still refused, what only the walk refused (wire types, depth) still passes.

/** protobufjs' own nesting limit as otlp-pg configured it, for the check of replaced members. */
const MAX_CHECK_DEPTH = 16 + 3 * MAX_ANY_VALUE_DEPTH;
const WIRE_TYPES: Readonly<Record<string, number | undefined>> = protobuf.types.basic;
const PACKABLE: Readonly<Record<string, number | undefined>> = protobuf.types.packed;

export function replaced(r: Reader, at: number, atEnd: number, more: number[] | undefined, type: protobuf.Type): void {
  const resume = r.pos;
  const ranges = more ?? [at, atEnd];
  for (let i = 0; i < ranges.length; i += 2) {
    r.pos = ranges[i]!;
    check(r, ranges[i + 1]!, type, 0);
  }
  r.pos = resume;
}

function check(r: Reader, end: number, type: protobuf.Type, depth: number): void {
  if (depth > MAX_CHECK_DEPTH) throw new WireError('max depth exceeded');
  while (r.pos < end) {
    const tag = r.tag();
    const field = type.fieldsById[tag >>> 3];
    const nested = field?.resolvedType;
    const wireType = nested instanceof protobuf.Type ? 2 : nested ? 0 : WIRE_TYPES[field?.type ?? ''];
    if (field === undefined || wireType === undefined) r.skip(tag, end);
    else if (nested instanceof protobuf.Type && (tag & 7) === 2) check(r, r.delimited(end), nested, depth + 1);
    else if ((tag & 7) === 2 && field.type === 'string') r.string(end);
    else if ((tag & 7) === 2 && field.repeated && PACKABLE[field.type] !== undefined) {
      const stop = r.delimited(end);
      if (wireType === 0) while (r.pos < stop) r.bool();
      else if ((stop - r.pos) % (wireType === 1 ? 8 : 4) !== 0) throw new WireError('packed field of odd length');
      else r.pos = stop;
      r.done(stop);
    } else if ((tag & 7) === wireType && wireType === 0) r.bool(); // any varint: at most ten bytes
    else r.skip(tag, end);
  }
  r.done(end);
}

/** A message whose one field is `repeated M … = 1`: the requests, ArrayValue, KeyValueList. */
export function list<T>(r: Reader, end: number, type: protobuf.Type, walk: Walk<T>, n: number): T[] {
  const items: T[] = [];
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === ((1 << 3) | 2)) items.push(walk(r, r.delimited(end), n));
    else other(r, tag, end, type);
  }
  r.done(end);
  return items;
}

// ---- common

const ANY_VALUE = otel('common.v1.AnyValue');
const ARRAY_VALUE = otel('common.v1.ArrayValue');
const KEY_VALUE_LIST = otel('common.v1.KeyValueList');
const KEY_VALUE = otel('common.v1.KeyValue');
const SCOPE = otel('common.v1.InstrumentationScope');
const RESOURCE = otel('resource.v1.Resource');

export function keyValue(r: Reader, end: number, depth: number): otlp.KeyValue {
  let key = '';
  let at = -1;
  let atEnd = 0;
  let more: number[] | undefined;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === ((1 << 3) | 2)) key = r.key(end);
    else if (tag === ((2 << 3) | 2)) {
      const stop = r.delimited(end);
      more = again(more, at, atEnd, r.pos, stop);
      at = r.pos;
      atEnd = r.pos = stop;
    } else if (tag === ((3 << 3) | 0)) r.uint32(); // key_strindex: the profiles signal's only
    else other(r, tag, end, KEY_VALUE);
  }
  r.done(end);
  return { key, value: at < 0 ? EMPTY_VALUE : embedded(r, at, atEnd, more, anyValue, depth) };
}

// The oneof's last member on the wire wins; array and kvlist values are walked once it is known.
export function anyValue(r: Reader, end: number, depth: number): otlp.AnyValue {
  if (depth > MAX_ANY_VALUE_DEPTH) {
    throw invalidArgument(`invalid protobuf: AnyValue nested deeper than ${MAX_ANY_VALUE_DEPTH} levels`);
  }
  let value = EMPTY_VALUE;
  let nested = 0; // 5 (array_value) or 6 (kvlist_value) while that member is the last seen
  let at = -1;
  let atEnd = 0;
  let more: number[] | undefined;
  while (r.pos < end) {
    const tag = r.tag();
    if (nested !== 0 && tag >>> 3 !== nested && tag >>> 3 <= 8) {
      replaced(r, at, atEnd, more, nested === 5 ? ARRAY_VALUE : KEY_VALUE_LIST);
      nested = 0;
    }
    switch (tag) {
      case (1 << 3) | 2:
        value = { kind: 'string', value: r.string(end) };
        break;
      case (2 << 3) | 0:
        value = { kind: 'bool', value: r.bool() };
        break;
      case (3 << 3) | 0:
        value = { kind: 'int', value: r.int64() };
        break;
      case (4 << 3) | 1:
        value = { kind: 'double', value: r.double() };
        break;
      case (5 << 3) | 2:
      case (6 << 3) | 2: {
        const stop = r.delimited(end);
        more = nested === tag >>> 3 ? again(more, at, atEnd, r.pos, stop) : undefined;
        nested = tag >>> 3;
        at = r.pos;
        atEnd = r.pos = stop;
        break;
      }
      case (7 << 3) | 2:
        value = { kind: 'bytes', value: r.bytes(end) };
        break;
      case (8 << 3) | 0: // string_value_strindex: the profiles signal's only
        r.uint32();
        value = EMPTY_VALUE;
        break;
      default:
        other(r, tag, end, ANY_VALUE);
    }
  }
  r.done(end);
  if (nested === 5) return { kind: 'array', value: embedded(r, at, atEnd, more, arrayValues, depth) };
  if (nested === 6) return { kind: 'kvlist', value: embedded(r, at, atEnd, more, kvlistValues, depth) };
  return value;
}

function arrayValues(r: Reader, end: number, depth: number): otlp.AnyValue[] {
  return list(r, end, ARRAY_VALUE, anyValue, depth + 1);
}

function kvlistValues(r: Reader, end: number, depth: number): otlp.KeyValue[] {
  return list(r, end, KEY_VALUE_LIST, keyValue, depth + 1);
}

/** Walks the message at r.pos, or hands back the one the reader's memo holds for the same bytes. */
function memoized<K extends keyof Heads>(r: Reader, end: number, kind: K, walk: (r: Reader, end: number) => Heads[K]): Heads[K] {
  const memo = r.memo;
  if (memo === undefined || !HeadMemo.fits(end - r.pos)) return walk(r, end);
  const key = r.buf.latin1Slice(r.pos, end);
  const known = memo.get(kind, key);
  if (known !== undefined) {
    r.pos = end;
    return known;
  }
  const decoded = walk(r, end);
  memo.remember(kind, key, decoded);
  return decoded;
}

export const resource = (r: Reader, end: number): otlp.Resource => memoized(r, end, 'resource', walkResource);

function walkResource(r: Reader, end: number): otlp.Resource {
  const attributes: otlp.KeyValue[] = [];
  let droppedAttributesCount = 0;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === ((1 << 3) | 2)) attributes.push(keyValue(r, r.delimited(end), 1));
    else if (tag === ((2 << 3) | 0)) droppedAttributesCount = r.uint32();
    else if (tag === ((3 << 3) | 2)) entityRef(r, r.delimited(end));
    else other(r, tag, end, RESOURCE);
  }
  r.done(end);
  return { attributes, droppedAttributesCount };
}

/** Resource.entity_refs are not kept, but their strings must be UTF-8 like every other. */
function entityRef(r: Reader, end: number): void {
  while (r.pos < end) {
    const tag = r.tag();
    if ((tag & 7) === 2 && tag >>> 3 <= 4) r.string(end);
    else r.skip(tag, end);
  }
  r.done(end);
}

export const scope = (r: Reader, end: number): otlp.InstrumentationScope => memoized(r, end, 'scope', walkScope);

function walkScope(r: Reader, end: number): otlp.InstrumentationScope {
  let name = '';
  let version = '';
  const attributes: otlp.KeyValue[] = [];
  let droppedAttributesCount = 0;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === ((1 << 3) | 2)) name = r.string(end);
    else if (tag === ((2 << 3) | 2)) version = r.string(end);
    else if (tag === ((3 << 3) | 2)) attributes.push(keyValue(r, r.delimited(end), 1));
    else if (tag === ((4 << 3) | 0)) droppedAttributesCount = r.uint32();
    else other(r, tag, end, SCOPE);
  }
  r.done(end);
  return { name, version, attributes, droppedAttributesCount };
}

export interface Envelope<H, T> {
  readonly head: H | undefined;
  readonly items: T[];
  readonly schemaUrl: string;
}

/** Resource* and Scope* messages share a layout: resource or scope (1), their items (2), schema_url (3). */
export function envelope<H, T>(
  r: Reader,
  end: number,
  type: protobuf.Type,
  head: Walk<H>,
  item: Walk<T>,
): Envelope<H, T> {
  const items: T[] = [];
  let schemaUrl = '';
  let at = -1;
  let atEnd = 0;
  let more: number[] | undefined;
  while (r.pos < end) {
    const tag = r.tag();
    if (tag === ((1 << 3) | 2)) {
      const stop = r.delimited(end);
      more = again(more, at, atEnd, r.pos, stop);
      at = r.pos;
      atEnd = r.pos = stop;
    } else if (tag === ((2 << 3) | 2)) items.push(item(r, r.delimited(end), 0));
    else if (tag === ((3 << 3) | 2)) schemaUrl = r.string(end);
    else other(r, tag, end, type);
  }
  r.done(end);
  return { head: at < 0 ? undefined : embedded(r, at, atEnd, more, head, 0), items, schemaUrl };
}

