// Attributes left as their protobuf bytes, for the attributes of spans, log records and data points,
// which are only ever copied into a jsonb column (a metric stream's identity does not include them):
// making ten KeyValue objects, their values and strings per item, and then making the strings
// storable and writing them out again as JSON, was about a third of what decoding, mapping and
// encoding a span cost (bench:stages, and the commit that made this, have the figures). The walk
// checks each KeyValue as it would have decoded it; when every one of an item's is plain (below),
// they stay bytes, and write/jsonb-attributes.ts writes their JSON from those bytes. Anything else
// (arrays, kvlists, bytes, empty values, a NUL, a field repeated or out of the usual order, unknown
// fields) is decoded as before, so what is stored is the same either way; a test holds the two equal
// byte for byte.
import { isUtf8 } from 'node:buffer';
import { keyValue } from './protobuf-common.js';
import { Reader } from './protobuf-reader.js';
import type { ItemAttributes, KeyValue } from './types.js';

/**
 * A run of one repeated KeyValue field of a message, each element plain: `key` (field 1) then `value`
 * (field 2), each exactly once and in that order, the key and any string value valid UTF-8 without a
 * NUL (so storable as they are), the value one of string (1), bool (2, encoded 0 or 1), int (3, a
 * varint of at most nine bytes, or ten ending in 0x01: a negative) or double (4), alone.
 */
export class WireAttributes {
  constructor(
    /** The request body the elements are in. */
    readonly buf: Buffer,
    /** Where the first element's tag starts and the last element ends; nothing else lies between. */
    readonly start: number,
    readonly end: number,
    /** How many KeyValues. */
    readonly length: number,
  ) {}

  /** The KeyValues, as the walk decodes them when they are not kept as bytes. */
  toKeyValues(): KeyValue[] {
    const r = new Reader(this.buf);
    r.pos = this.start;
    const into: KeyValue[] = [];
    walkRun(r, this.end, into);
    return into;
  }
}

/** Decodes the elements of a run, from their tags at r.pos to end, into `into`. */
function walkRun(r: Reader, end: number, into: KeyValue[]): void {
  while (r.pos < end) {
    r.tag();
    into.push(keyValue(r, r.delimited(end), 1));
  }
}

/** Where the content of the length prefix at p starts: after at most five bytes; -1 if it does not end by `end`. */
function contentStart(buf: Buffer, p: number, end: number): number {
  if (p < end && buf[p]! < 0x80) return p + 1;
  for (let i = 1; i < 5 && p + i < end; i++) if (buf[p + i]! < 0x80) return p + i + 1;
  return -1;
}

/** Where the content of the length prefix in [p, start) ends; -1 past `end` or 2^31 - 1. */
function contentEnd(buf: Buffer, p: number, start: number, end: number): number {
  if (start === p + 1) return start + buf[p]! > end ? -1 : start + buf[p]!;
  let length = 0;
  for (let i = 0; p + i < start; i++) length += (buf[p + i]! & 0x7f) * 2 ** (7 * i);
  return length > 0x7fffffff || start + length > end ? -1 : start + length;
}

/** Valid UTF-8 without a NUL: what PostgreSQL stores as is. */
function storable(buf: Buffer, start: number, end: number): boolean {
  let bits = 0;
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    if (b === 0) return false;
    bits |= b;
  }
  return bits < 0x80 || isUtf8(buf.subarray(start, end));
}

/** Whether the KeyValue message in [start, end) is plain (see WireAttributes). */
function plainKeyValue(buf: Buffer, start: number, end: number): boolean {
  if (start >= end || buf[start] !== ((1 << 3) | 2)) return false;
  const keyAt = contentStart(buf, start + 1, end);
  if (keyAt < 0) return false;
  const keyEnd = contentEnd(buf, start + 1, keyAt, end);
  if (keyEnd < 0 || keyEnd >= end || buf[keyEnd] !== ((2 << 3) | 2) || !storable(buf, keyAt, keyEnd)) return false;
  const valueAt = contentStart(buf, keyEnd + 1, end);
  if (valueAt < 0 || valueAt >= end || contentEnd(buf, keyEnd + 1, valueAt, end) !== end) return false;
  let p = valueAt + 1;
  switch (buf[valueAt]) {
    case (1 << 3) | 2: {
      const at = contentStart(buf, p, end);
      return at >= 0 && contentEnd(buf, p, at, end) === end && storable(buf, at, end);
    }
    case (2 << 3) | 0:
      return p + 1 === end && buf[p]! <= 1;
    case (3 << 3) | 0: {
      const first = p;
      while (p < end && buf[p]! >= 0x80) p++;
      const size = p + 1 - first;
      return p + 1 === end && (size <= 9 || (size === 10 && buf[p] === 1));
    }
    case (4 << 3) | 1:
      return p + 8 === end;
    default:
      return false;
  }
}

/**
 * Collects a message's attributes, one repeated KeyValue field, as its walk meets them: as a
 * WireAttributes while every element is plain and they follow each other, decoded otherwise.
 */
export class AttributeRun {
  private buf: Buffer | undefined;
  private start = -1;
  private end = -1;
  private count = 0;
  private decoded: KeyValue[] | undefined;

  /** One element: its tag began at `tagAt`, r.pos is at its length prefix. Leaves r.pos after it. */
  add(r: Reader, tagAt: number, end: number): void {
    const stop = r.delimited(end);
    if (this.decoded === undefined && r.wire && (this.count === 0 || tagAt === this.end) && plainKeyValue(r.buf, r.pos, stop)) {
      if (this.count === 0) {
        this.buf = r.buf;
        this.start = tagAt;
      }
      this.end = stop;
      this.count++;
      r.pos = stop;
      return;
    }
    if (this.decoded === undefined) {
      // Walked here, not later, so that a bad element is refused where it was before.
      this.decoded = [];
      if (this.count > 0) {
        const resume = r.pos;
        r.pos = this.start;
        walkRun(r, this.end, this.decoded);
        r.pos = resume;
      }
    }
    this.decoded.push(keyValue(r, stop, 1));
  }

  /** The attributes met, as bytes or decoded. */
  done(): ItemAttributes {
    if (this.decoded !== undefined) return this.decoded;
    return this.buf === undefined ? [] : new WireAttributes(this.buf, this.start, this.end, this.count);
  }
}

/** The attributes decoded, whichever form they are in. */
export function keyValuesOf(attributes: ItemAttributes): readonly KeyValue[] {
  return attributes instanceof WireAttributes ? attributes.toKeyValues() : attributes;
}
