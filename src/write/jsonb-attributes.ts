// Attributes as jsonb text written byte by byte into a COPY buffer, the same text that
// map/values.ts attributesJson() makes as a string (a test holds the two equal). Per span the
// string was built piece by piece, flattened, and then encoded to UTF-8 again: three passes and
// garbage, where this makes one pass and none for the printable ASCII most keys and values are.
// Attributes the decoder kept as protobuf bytes (decode/wire-attributes.ts) are written from those
// bytes, to the same text.

import { WireAttributes } from '../decode/wire-attributes.js';
import type { AnyValue, Attributes, KeyValue } from '../map/types.js';
// The jsonb format of a value is defined once, in map/values.ts; only strings and containers are
// written here without going through a string.
import { anyValueJson, doubleJson, TAGGED_KEYS } from '../map/values.js';

/** Where the bytes go: the buffer may be replaced by reserve(), so it is read again after each. */
export interface ByteSink {
  buf: Buffer;
  at: number;
  reserve(bytes: number): void;
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const COLON = 0x3a;

function byte(sink: ByteSink, b: number): void {
  sink.reserve(1);
  sink.buf[sink.at++] = b;
}

/** Text known to be ASCII that needs no JSON escaping: numbers, literals, tags. */
function ascii(sink: ByteSink, s: string): void {
  const n = s.length;
  sink.reserve(n);
  const buf = sink.buf;
  let at = sink.at;
  for (let i = 0; i < n; i++) buf[at++] = s.charCodeAt(i);
  sink.at = at;
}

/**
 * A JSON string. Printable ASCII without a quote or backslash is copied as is; anything else is
 * written as JSON.stringify writes it. The string is storable already (map/ replaced what
 * PostgreSQL cannot hold and counted it), so nothing here changes or counts.
 */
function string(sink: ByteSink, s: string): void {
  const n = s.length;
  sink.reserve(n + 2);
  const buf = sink.buf;
  const start = sink.at;
  let at = start + 1;
  let i = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === QUOTE || c === 0x5c) break;
    buf[at++] = c;
  }
  if (i === n) {
    buf[start] = QUOTE;
    buf[at++] = QUOTE;
    sink.at = at;
    return;
  }
  const json = JSON.stringify(s);
  sink.reserve(Buffer.byteLength(json));
  sink.at = start + sink.buf.write(json, start, 'utf8');
}

/** One value, as anyValueJson() writes it. */
export function writeValueJson(sink: ByteSink, v: AnyValue): void {
  switch (v.kind) {
    case 'string':
      string(sink, v.value);
      return;
    case 'array':
      byte(sink, 0x5b);
      for (let i = 0; i < v.value.length; i++) {
        if (i > 0) byte(sink, COMMA);
        writeValueJson(sink, v.value[i] as AnyValue);
      }
      byte(sink, 0x5d);
      return;
    case 'kvlist': {
      const only = v.value.length === 1 ? v.value[0] : undefined;
      if (only !== undefined && TAGGED_KEYS.has(only.key)) {
        ascii(sink, '{"$kvlist":');
        writeAttributesJson(sink, v.value);
        byte(sink, 0x7d);
      } else {
        writeAttributesJson(sink, v.value);
      }
      return;
    }
    default:
      ascii(sink, anyValueJson(v));
  }
}

/** The attributes as a jsonb object, as attributesJson() writes it. */
export function writeAttributesJson(sink: ByteSink, kvs: Attributes): void {
  if (kvs instanceof WireAttributes) {
    writeWireAttributesJson(sink, kvs);
    return;
  }
  byte(sink, 0x7b);
  for (let i = 0; i < kvs.length; i++) {
    const kv = kvs[i] as KeyValue;
    if (i > 0) byte(sink, COMMA);
    string(sink, kv.key);
    byte(sink, COLON);
    writeValueJson(sink, kv.value);
  }
  byte(sink, 0x7d);
}

// ---- from the protobuf bytes (decode/wire-attributes.ts)

/** Where the varint at p ends. */
function after(buf: Buffer, p: number): number {
  while (buf[p]! >= 0x80) p++;
  return p + 1;
}

/** The value of the length prefix at p (at most five bytes). */
function lengthAt(buf: Buffer, p: number): number {
  let length = 0;
  for (let shift = 1; ; shift *= 128) {
    const b = buf[p++]!;
    length += (b & 0x7f) * shift;
    if (b < 0x80) return length;
  }
}

/** JSON's short escapes; the other control characters are written \u00xx. */
const SHORT_ESCAPES: Readonly<Record<number, number>> = { 0x08: 0x62, 0x09: 0x74, 0x0a: 0x6e, 0x0c: 0x66, 0x0d: 0x72, 0x22: 0x22, 0x5c: 0x5c };
const HEX = '0123456789abcdef';

/**
 * A JSON string from UTF-8 bytes known storable, at `at` in `buf` (room made by the caller, six
 * bytes per byte and two), as JSON.stringify writes it: it escapes only the quote, the backslash and
 * control characters, and copies every other character as it is. Returns where it ends.
 */
function utf8String(buf: Buffer, at: number, src: Buffer, start: number, end: number): number {
  buf[at++] = QUOTE;
  for (let i = start; i < end; i++) {
    const b = src[i]!;
    if (b >= 0x20 && b !== QUOTE && b !== 0x5c) {
      buf[at++] = b;
      continue;
    }
    buf[at++] = 0x5c;
    const short = SHORT_ESCAPES[b];
    if (short !== undefined) buf[at++] = short;
    else {
      buf[at++] = 0x75;
      buf[at++] = 0x30;
      buf[at++] = 0x30;
      buf[at++] = HEX.charCodeAt(b >> 4);
      buf[at++] = HEX.charCodeAt(b & 15);
    }
  }
  buf[at++] = QUOTE;
  return at;
}

/** ASCII text at `at` in `buf`, room made by the caller; returns where it ends. */
function asciiAt(buf: Buffer, at: number, s: string): number {
  for (let i = 0; i < s.length; i++) buf[at++] = s.charCodeAt(i);
  return at;
}

/** An int64 varint in [p, end) as decimal digits, as the reader's int64() and bigint toString() give them. */
function wireInt(src: Buffer, p: number, end: number): string {
  // Up to seven bytes, 49 bits: exact as a number.
  if (end - p <= 7) {
    let n = 0;
    for (let i = p, shift = 1; i < end; i++, shift *= 128) n += (src[i]! & 0x7f) * shift;
    return String(n);
  }
  let n = 0n;
  for (let i = end - 1; i >= p; i--) n = (n << 7n) | BigInt(src[i]! & 0x7f);
  return BigInt.asIntN(64, n).toString();
}

/** The longest a plain value other than a string can be as JSON: a double's plain decimal (5e-324). */
const MAX_NUMBER_JSON = 400;

/** Attributes kept as their protobuf bytes, as writeAttributesJson() writes them decoded. */
function writeWireAttributesJson(sink: ByteSink, w: WireAttributes): void {
  const src = w.buf;
  // Two braces, and per element at most: a comma, six bytes per byte of its key and string, two
  // quotes each, a colon, and a number.
  sink.reserve(2 + 6 * (w.end - w.start) + w.length * (6 + MAX_NUMBER_JSON));
  const buf = sink.buf;
  let at = sink.at;
  buf[at++] = 0x7b;
  let p = w.start;
  while (p < w.end) {
    if (p !== w.start) buf[at++] = COMMA;
    p = after(src, p); // the element's tag
    const elementAt = after(src, p);
    const elementEnd = elementAt + lengthAt(src, p);
    // The key: its tag, length and bytes.
    const keyAt = after(src, elementAt + 1);
    const keyEnd = keyAt + lengthAt(src, elementAt + 1);
    at = utf8String(buf, at, src, keyAt, keyEnd);
    buf[at++] = COLON;
    // The value: its tag and length, then the AnyValue's one field.
    const v = after(src, keyEnd + 1);
    const tag = src[v]!;
    if (tag === ((1 << 3) | 2)) at = utf8String(buf, at, src, after(src, v + 1), elementEnd);
    else if (tag === ((2 << 3) | 0)) at = asciiAt(buf, at, src[v + 1] === 1 ? 'true' : 'false');
    else if (tag === ((3 << 3) | 0)) at = asciiAt(buf, at, wireInt(src, v + 1, elementEnd));
    else at = asciiAt(buf, at, doubleJson(src.readDoubleLE(v + 1)));
    p = elementEnd;
  }
  buf[at++] = 0x7d;
  sink.at = at;
}
