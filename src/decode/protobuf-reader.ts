// The protobuf wire format (https://protobuf.dev/programming-guides/encoding/), read in place from a
// request body: the primitives decode/protobuf.ts walks the OTLP messages with. Malformed input throws
// WireError, which the caller turns into invalidArgument naming the request type.
//
// Scalars are bounds-checked against the whole body only; a read that runs past the end of its
// message is caught by done(), which every message walk calls when its loop ends. Lengths are checked
// against the enclosing message, so no field extends beyond it.
import { isUtf8 } from 'node:buffer';
import type { HeadMemo } from './head-memo.js';

/** Malformed protobuf: truncated, a bad varint, tag, length, wire type or UTF-8 string. */
export class WireError extends Error {
  override readonly name = 'WireError';
}

/** Every empty bytes value either decoder returns, so that no request holds an empty view of its body. */
export const EMPTY_BYTES: Uint8Array = Buffer.alloc(0);

/**
 * How deep groups (wire types 3/4, which OTLP never uses) may nest inside a skipped unknown field:
 * about what protobufjs allowed as otlp-pg configured it (208 levels, enclosing messages included).
 */
const MAX_GROUP_DEPTH = 200;

// Undocumented but stable Buffer methods (protobufjs uses them too): toString() pays for an encoding
// switch and argument checks on every call, and most OTLP strings are short.
interface SliceableBuffer extends Buffer {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}

// Attribute keys repeat on every span, log record and data point of a request, and across requests:
// a small direct-mapped cache of their bytes returns the same string without creating it again.
const KEY_SLOT_BITS = 10;
const KEY_SLOTS = 1 << KEY_SLOT_BITS;
const KEY_MAX_BYTES = 48;
const keyBytes = new Uint8Array(KEY_SLOTS * KEY_MAX_BYTES);
const keyWords = new DataView(keyBytes.buffer);
const keyLengths = new Int32Array(KEY_SLOTS);
const keyStrings: string[] = new Array<string>(KEY_SLOTS).fill('');

function truncated(pos: number): WireError {
  return new WireError(`truncated at offset ${pos}`);
}

const fcc = String.fromCharCode;

/**
 * Up to 16 ASCII bytes as a string, in one String.fromCharCode call: half the cost of a native slice,
 * which is most of the cost of the short keys and values of telemetry. One call, because a string
 * concatenated from pieces past 12 characters is a rope that its first reader has to flatten.
 */
function shortAscii(b: Uint8Array, p: number, n: number): string {
  // prettier-ignore
  switch (n) {
    case 1: return fcc(b[p]!);
    case 2: return fcc(b[p]!, b[p + 1]!);
    case 3: return fcc(b[p]!, b[p + 1]!, b[p + 2]!);
    case 4: return fcc(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!);
    case 5: return fcc(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!);
    case 6: return fcc(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!);
    case 7: return fcc(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!, b[p + 6]!);
    case 8: return fcc(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!, b[p + 6]!, b[p + 7]!);
    case 9: return fcc(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!, b[p + 6]!, b[p + 7]!,
      b[p + 8]!);
    case 10: return fcc(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!, b[p + 6]!, b[p + 7]!,
      b[p + 8]!, b[p + 9]!);
    case 11: return fcc(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!, b[p + 6]!, b[p + 7]!,
      b[p + 8]!, b[p + 9]!, b[p + 10]!);
    case 12: return fcc(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!, b[p + 6]!, b[p + 7]!,
      b[p + 8]!, b[p + 9]!, b[p + 10]!, b[p + 11]!);
    case 13: return fcc(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!, b[p + 6]!, b[p + 7]!,
      b[p + 8]!, b[p + 9]!, b[p + 10]!, b[p + 11]!, b[p + 12]!);
    case 14: return fcc(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!, b[p + 6]!, b[p + 7]!,
      b[p + 8]!, b[p + 9]!, b[p + 10]!, b[p + 11]!, b[p + 12]!, b[p + 13]!);
    case 15: return fcc(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!, b[p + 6]!, b[p + 7]!,
      b[p + 8]!, b[p + 9]!, b[p + 10]!, b[p + 11]!, b[p + 12]!, b[p + 13]!, b[p + 14]!);
    case 16: return fcc(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!, b[p + 6]!, b[p + 7]!,
      b[p + 8]!, b[p + 9]!, b[p + 10]!, b[p + 11]!, b[p + 12]!, b[p + 13]!, b[p + 14]!, b[p + 15]!);
    default: throw new RangeError(`shortAscii of ${n} bytes`);
  }
}

/** A body's bytes as a string, refusing invalid UTF-8 as protobufjs' fatal TextDecoder did. */
function utf8(buf: SliceableBuffer, start: number, end: number): string {
  // Scanning up to 128 bytes for ASCII costs less than the two native calls it spares.
  if (end - start <= 128) {
    let bits = 0;
    for (let i = start; i < end; i++) bits |= buf[i]!;
    if (bits < 0x80) return end - start <= 16 ? shortAscii(buf, start, end - start) : buf.latin1Slice(start, end);
  }
  if (!isUtf8(buf.subarray(start, end))) throw new WireError(`invalid UTF-8 in the string at offset ${start}`);
  return buf.utf8Slice(start, end);
}

export class Reader {
  readonly buf: SliceableBuffer;
  readonly len: number;
  pos = 0;
  private readonly view: DataView;
  // The two halves of the last varint read by varint(), unsigned.
  private lo = 0;
  private hi = 0;

  /**
   * @param memo Resources and scopes decoded by earlier requests (./head-memo.ts); without one,
   *   every message is walked.
   * @param wire Whether the plain attributes of spans, log records and data points stay bytes (./wire-attributes.ts).
   */
  constructor(
    body: Uint8Array,
    readonly memo?: HeadMemo,
    readonly wire = false,
  ) {
    const buf = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    this.buf = buf as SliceableBuffer;
    this.len = buf.length;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** A field's tag (field number << 3 | wire type); the caller has checked that a byte is left. */
  tag(): number {
    const b = this.buf[this.pos]!;
    if (b >= 8 && b < 0x80) {
      this.pos++;
      return b;
    }
    const start = this.pos;
    this.varint();
    // A tag is a uint32 of at most five bytes, and field number 0 does not exist.
    if (this.hi !== 0 || this.pos - start > 5) throw new WireError(`invalid tag encoding at offset ${start}`);
    if (this.lo < 8) throw new WireError(`illegal tag: field number 0 at offset ${start}`);
    return this.lo;
  }

  /** uint32: the low 32 bits of the varint, unsigned. */
  uint32(): number {
    const b = this.buf[this.pos];
    if (b !== undefined && b < 0x80) {
      this.pos++;
      return b;
    }
    this.varint();
    return this.lo;
  }

  /** int32 and enums: the low 32 bits of the varint, signed. */
  int32(): number {
    return this.uint32() | 0;
  }

  /** sint32: zigzag-encoded. */
  sint32(): number {
    const n = this.uint32();
    return (n >>> 1) ^ -(n & 1);
  }

  bool(): boolean {
    this.varint();
    return this.lo !== 0 || this.hi !== 0;
  }

  uint64(): bigint {
    this.varint();
    return this.unsigned();
  }

  /** int64: negative values are ten-byte varints in two's complement. */
  int64(): bigint {
    this.varint();
    if (this.hi < 0x80000000) return this.unsigned();
    return BigInt.asIntN(64, (BigInt(this.hi) << 32n) | BigInt(this.lo));
  }

  fixed32(): number {
    const pos = this.advance(4);
    return this.view.getUint32(pos, true);
  }

  fixed64(): bigint {
    const pos = this.advance(8);
    return this.view.getBigUint64(pos, true);
  }

  sfixed64(): bigint {
    const pos = this.advance(8);
    return this.view.getBigInt64(pos, true);
  }

  double(): number {
    const pos = this.advance(8);
    return this.view.getFloat64(pos, true);
  }

  /** Reads a length prefix and returns where the content ends, leaving pos at its start. */
  delimited(end: number): number {
    const start = this.pos;
    let length = this.buf[start];
    if (length !== undefined && length < 0x80) {
      this.pos++;
    } else {
      this.varint();
      // protobufjs, like the other implementations, takes lengths below 2^31 of at most five bytes.
      if (this.hi !== 0 || this.lo > 0x7fffffff || this.pos - start > 5) {
        throw new WireError(`invalid length encoding at offset ${start}`);
      }
      length = this.lo;
    }
    const stop = this.pos + length;
    if (stop > end) throw new WireError(`length ${length} at offset ${start} exceeds its message`);
    return stop;
  }

  string(end: number): string {
    const stop = this.delimited(end);
    const start = this.pos;
    this.pos = stop;
    return start === stop ? '' : utf8(this.buf, start, stop);
  }

  /** A string that is likely to repeat, such as an attribute key: served from the key cache. */
  key(end: number): string {
    const stop = this.delimited(end);
    const start = this.pos;
    this.pos = stop;
    const length = stop - start;
    if (length === 0) return '';
    if (length > KEY_MAX_BYTES) return utf8(this.buf, start, stop);
    const buf = this.buf;
    // Hashing every byte would cost about as much as making the string; keys of one length mostly
    // differ at the end (app.attribute_1, app.attribute_2 …) or in the middle, and the compare decides.
    const mixed = buf[stop - 1]! ^ (buf[start + (length >>> 1)]! << 8) ^ (buf[start]! << 16) ^ (length << 24);
    // Fibonacci hashing: the top bits of the product depend on every bit of `mixed`.
    const slot = Math.imul(mixed, 0x9e3779b1) >>> (32 - KEY_SLOT_BITS);
    const base = slot * KEY_MAX_BYTES;
    if (keyLengths[slot] === length) {
      // Four bytes at a time; the last word overlaps the one before unless the length is a multiple of 4.
      const view = this.view;
      const last = length - 4;
      let i = 0;
      if (last >= 0) {
        while (i < last && keyWords.getInt32(base + i, true) === view.getInt32(start + i, true)) i += 4;
        if (i >= last && keyWords.getInt32(base + last, true) === view.getInt32(start + last, true)) {
          return keyStrings[slot]!;
        }
      } else {
        while (i < length && keyBytes[base + i] === buf[start + i]) i++;
        if (i === length) return keyStrings[slot]!;
      }
    }
    const key = utf8(buf, start, stop);
    keyLengths[slot] = length;
    for (let i = 0; i < length; i++) keyBytes[base + i] = buf[start + i]!;
    keyStrings[slot] = key;
    return key;
  }

  /** A view into the body, not a copy. */
  bytes(end: number): Uint8Array {
    const stop = this.delimited(end);
    const start = this.pos;
    this.pos = stop;
    return start === stop ? EMPTY_BYTES : this.buf.subarray(start, stop);
  }

  /** A packed run of fixed64 appended to `into`. */
  packedFixed64(end: number, into: bigint[]): void {
    const stop = this.delimited(end);
    if ((stop - this.pos) % 8 !== 0) throw new WireError(`packed fixed64 of odd length at offset ${this.pos}`);
    while (this.pos < stop) into.push(this.fixed64());
  }

  /** A packed run of doubles appended to `into`. */
  packedDouble(end: number, into: number[]): void {
    const stop = this.delimited(end);
    if ((stop - this.pos) % 8 !== 0) throw new WireError(`packed double of odd length at offset ${this.pos}`);
    while (this.pos < stop) into.push(this.double());
  }

  /** A packed run of uint64 varints appended to `into`. */
  packedUint64(end: number, into: bigint[]): void {
    const stop = this.delimited(end);
    while (this.pos < stop) into.push(this.uint64());
    this.done(stop);
  }

  /** Skips the value of a field this walk does not read. */
  skip(tag: number, end: number): void {
    switch (tag & 7) {
      case 0: {
        // No ten-byte limit here: protobufjs skipped any run of continuation bits, and so do we.
        let pos = this.pos;
        for (;;) {
          if (pos >= this.len) throw truncated(pos);
          if (this.buf[pos++]! < 0x80) break;
        }
        this.pos = pos;
        return;
      }
      case 1:
        this.advance(8);
        return;
      case 2:
        this.pos = this.delimited(end);
        return;
      case 3:
        this.skipGroup(tag >>> 3, end, 1);
        return;
      case 5:
        this.advance(4);
        return;
      default:
        throw new WireError(`invalid wire type ${tag & 7} at offset ${this.pos}`);
    }
  }

  /** Ends the walk of a message: its last field must end exactly where the message does. */
  done(end: number): void {
    if (this.pos !== end) throw new WireError(`field overruns its message, which ends at offset ${end}`);
  }

  private skipGroup(field: number, end: number, depth: number): void {
    if (depth > MAX_GROUP_DEPTH) throw new WireError(`groups nested deeper than ${MAX_GROUP_DEPTH} levels`);
    for (;;) {
      if (this.pos >= end) throw truncated(this.pos);
      const tag = this.tag();
      const wireType = tag & 7;
      if (wireType === 4) {
        if (tag >>> 3 !== field) throw new WireError(`invalid end group tag at offset ${this.pos}`);
        return;
      }
      if (wireType === 3) this.skipGroup(tag >>> 3, end, depth + 1);
      else this.skip(tag, end);
    }
  }

  /** Moves past `size` bytes, returning where they start. */
  private advance(size: number): number {
    const pos = this.pos;
    if (pos + size > this.len) throw truncated(pos);
    this.pos = pos + size;
    return pos;
  }

  private unsigned(): bigint {
    const hi = this.hi;
    if (hi === 0) return BigInt(this.lo);
    // Below 2^53 the value is exact as a number, which spares two BigInts and a shift.
    if (hi < 0x200000) return BigInt(hi * 0x100000000 + this.lo);
    return (BigInt(hi) << 32n) | BigInt(this.lo);
  }

  /** Reads a varint of up to ten bytes into lo and hi. */
  private varint(): void {
    const buf = this.buf;
    const len = this.len;
    let pos = this.pos;
    let lo = 0;
    let b = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (pos >= len) throw truncated(pos);
      b = buf[pos++]!;
      lo |= (b & 0x7f) << shift;
      if (b < 0x80) return this.set(pos, lo, 0);
    }
    if (pos >= len) throw truncated(pos);
    b = buf[pos++]!;
    lo |= (b & 0x7f) << 28;
    let hi = (b & 0x7f) >>> 4;
    if (b < 0x80) return this.set(pos, lo, hi);
    // Bytes six to ten; of the tenth only the lowest bit fits in 64.
    for (let shift = 3; shift < 38; shift += 7) {
      if (pos >= len) throw truncated(pos);
      b = buf[pos++]!;
      hi |= (b & 0x7f) << shift;
      if (b < 0x80) return this.set(pos, lo, hi);
    }
    throw new WireError(`invalid varint encoding at offset ${this.pos}`);
  }

  private set(pos: number, lo: number, hi: number): void {
    this.pos = pos;
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
  }
}
