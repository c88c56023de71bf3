// Rows in PostgreSQL's binary COPY format (https://www.postgresql.org/docs/current/sql-copy.html,
// "Binary Format"): per row an int16 field count, per field an int32 byte length (-1 for NULL) and
// the type's binary send form, all big-endian. The server reads each value as it is stored, with
// no text to parse (bench/copy-format.ts measures what that saves).
//
// A payload here is rows only: a COPY stream has one header and one trailer, while a batch is a
// concatenation of per-request payloads, so copyIn adds BINARY_HEADER and BINARY_TRAILER around
// the parts.

import type { AnyValue, Attributes } from '../map/types.js';
import { writeAttributesJson, writeValueJson, type ByteSink } from './jsonb-attributes.js';

/**
 * What the row writers of write/ call, field by field in column order, whatever the COPY format.
 * The methods name the column's type because binary COPY does not coerce: an integer column must
 * be sent an int4, a bigint column an int8.
 */
export interface CopyRowWriter {
  text(s: string): void;
  nullableText(s: string | null): void;
  /** jsonb, from JSON text as map/ writes it. */
  json(s: string): void;
  nullableJson(s: string | null): void;
  /** jsonb, an attribute map as map/ hands it over (storable strings), in the format of map/values.ts. */
  attributes(kvs: Attributes): void;
  /** jsonb, one value as map/ hands it over (storable strings); NULL for null. */
  nullableJsonValue(v: AnyValue | null): void;
  int4(n: number): void;
  nullableInt4(n: number | null): void;
  int8(n: number | bigint): void;
  nullableInt8(n: number | bigint | null): void;
  float8(n: number): void;
  nullableFloat8(n: number | null): void;
  int8Array(values: readonly bigint[] | null): void;
  float8Array(values: readonly number[] | null): void;
  bytea(b: Uint8Array): void;
  nullableBytea(b: Uint8Array | null): void;
  /** Nanoseconds since the Unix epoch, stored to the microsecond (rounded down). */
  timestamptz(unixNano: bigint): void;
  endRow(): void;
}

/** `PGCOPY\n\377\r\n\0`, flags (no OIDs), header extension length 0. */
export const BINARY_HEADER = Buffer.from([
  0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,
]);
/** A field count of -1 ends the data. */
export const BINARY_TRAILER = Buffer.from([0xff, 0xff]);

/** pg_type oids of the array elements we send (array_recv refuses any other than the column's). */
const INT8_OID = 20;
const FLOAT8_OID = 701;
const INT4_OID = 23;
const BYTEA_OID = 17;
const TEXT_OID = 25;
/** jsonb's binary form is a version byte, then the JSON text. */
const JSONB_VERSION = 1;
/** Microseconds from the Unix epoch to PostgreSQL's, 2000-01-01. */
const PG_EPOCH_MICROS = 946_684_800_000_000n;
const INT8_MAX = (1n << 63n) - 1n;
const INT8_MIN = -(1n << 63n);
/** Strings up to this length are copied a code unit at a time while they are ASCII; longer ones natively. */
const SHORT = 64;

/** One binary COPY payload (rows, no header or trailer), built field by field; end each row with endRow(). */
export class BinaryCopyBuffer implements CopyRowWriter, ByteSink {
  /** The bytes so far and the write position: public for the jsonb writer (jsonb-attributes.ts). */
  buf: Buffer;
  private view: DataView;
  /** Where the current row's field count goes; its fields follow it. */
  private rowStart = 0;
  at = 2;
  private fields = 0;
  rows = 0;

  constructor(initialBytes = 256 * 1024) {
    this.buf = Buffer.allocUnsafe(Math.max(initialBytes, 16));
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  }

  /** Room for `bytes` more at `at` (`buf` may be a new Buffer afterwards). */
  reserve(bytes: number): void {
    if (this.at + bytes <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + bytes));
    this.buf.copy(grown, 0, 0, this.at);
    this.buf = grown;
    this.view = new DataView(grown.buffer, grown.byteOffset, grown.length);
  }

  /** A field of `length` bytes begins: its length is written, its bytes are the caller's to write. */
  private field(length: number): void {
    this.reserve(length + 4);
    this.view.setInt32(this.at, length);
    this.at += 4;
    this.fields++;
  }

  null(): void {
    this.reserve(4);
    this.view.setInt32(this.at, -1);
    this.at += 4;
    this.fields++;
  }

  /** text: UTF-8. */
  text(s: string): void {
    this.utf8(s, 0);
  }

  nullableText(s: string | null): void {
    if (s === null) this.null();
    else this.utf8(s, 0);
  }

  /** jsonb: the version byte, then the JSON text as map/ wrote it. */
  json(s: string): void {
    this.utf8(s, 1);
  }

  nullableJson(s: string | null): void {
    if (s === null) this.null();
    else this.utf8(s, 1);
  }

  /** jsonb: the attributes written as JSON straight into the buffer, no string made between. */
  attributes(kvs: Attributes): void {
    const lengthAt = this.jsonbStart();
    writeAttributesJson(this, kvs);
    this.jsonbEnd(lengthAt);
  }

  nullableJsonValue(v: AnyValue | null): void {
    if (v === null) {
      this.null();
      return;
    }
    const lengthAt = this.jsonbStart();
    writeValueJson(this, v);
    this.jsonbEnd(lengthAt);
  }

  /** A jsonb field begins: room for its length, then its version byte. Returns where the length goes. */
  private jsonbStart(): number {
    this.reserve(5);
    const lengthAt = this.at;
    this.at += 4;
    this.buf[this.at++] = JSONB_VERSION;
    return lengthAt;
  }

  private jsonbEnd(lengthAt: number): void {
    this.view.setInt32(lengthAt, this.at - lengthAt - 4);
    this.fields++;
  }

  /** A UTF-8 field, after jsonb's version byte when `prefix` is 1. */
  private utf8(s: string, prefix: 0 | 1): void {
    const n = s.length;
    this.reserve(4 + prefix + 3 * n);
    const buf = this.buf;
    const start = this.at + 4;
    let at = start;
    if (prefix === 1) buf[at++] = JSONB_VERSION;
    let i = 0;
    if (n <= SHORT) {
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[at++] = c;
      }
    }
    if (i < n) at = start + prefix + buf.write(s, start + prefix, 'utf8');
    this.view.setInt32(this.at, at - start);
    this.at = at;
    this.fields++;
  }

  /** integer. Throws on a value outside int32 rather than send another number. */
  int4(n: number): void {
    if ((n | 0) !== n) throw new RangeError(`${n} is not an int4`);
    this.field(4);
    this.view.setInt32(this.at, n);
    this.at += 4;
  }

  nullableInt4(n: number | null): void {
    if (n === null) this.null();
    else this.int4(n);
  }

  /** bigint. Throws on a value outside int64 (setBigInt64 would wrap it). */
  int8(n: number | bigint): void {
    if (typeof n === 'number') {
      // Flags and the like: no BigInt to make. The high word is the floor, the low word what is left.
      if (!Number.isSafeInteger(n)) throw new RangeError(`${n} is not an int8`);
      const high = Math.floor(n / 0x1_0000_0000);
      this.field(8);
      this.view.setInt32(this.at, high);
      this.view.setUint32(this.at + 4, n - high * 0x1_0000_0000);
    } else {
      if (n > INT8_MAX || n < INT8_MIN) throw new RangeError(`${n} is not an int8`);
      this.field(8);
      this.view.setBigInt64(this.at, n);
    }
    this.at += 8;
  }

  nullableInt8(n: number | bigint | null): void {
    if (n === null) this.null();
    else this.int8(n);
  }

  /** float8: IEEE 754, so NaN, ±Infinity and -0 go as they are. */
  float8(n: number): void {
    this.field(8);
    this.view.setFloat64(this.at, n);
    this.at += 8;
  }

  nullableFloat8(n: number | null): void {
    if (n === null) this.null();
    else this.float8(n);
  }

  /** bigint[]. */
  int8Array(values: readonly bigint[] | null): void {
    if (values === null) {
      this.null();
      return;
    }
    this.arrayHeader(values.length, INT8_OID);
    const view = this.view;
    let at = this.at;
    for (const v of values) {
      if (v > INT8_MAX || v < INT8_MIN) throw new RangeError(`${v} is not an int8`);
      view.setInt32(at, 8);
      view.setBigInt64(at + 4, v);
      at += 12;
    }
    this.at = at;
  }

  /** double precision[]. */
  float8Array(values: readonly number[] | null): void {
    if (values === null) {
      this.null();
      return;
    }
    this.arrayHeader(values.length, FLOAT8_OID);
    const view = this.view;
    let at = this.at;
    for (const v of values) {
      view.setInt32(at, 8);
      view.setFloat64(at + 4, v);
      at += 12;
    }
    this.at = at;
  }

  /** integer[]. */
  int4Array(values: readonly number[]): void {
    this.arrayHeader(values.length, INT4_OID, 8 * values.length);
    const view = this.view;
    let at = this.at;
    for (const v of values) {
      if ((v | 0) !== v) throw new RangeError(`${v} is not an int4`);
      view.setInt32(at, 4);
      view.setInt32(at + 4, v);
      at += 8;
    }
    this.at = at;
  }

  /** bytea[], NULL elements allowed. */
  byteaArray(values: readonly (Uint8Array | null)[]): void {
    let bytes = 0;
    for (const v of values) bytes += 4 + (v === null ? 0 : v.length);
    this.arrayHeader(values.length, BYTEA_OID, bytes);
    for (const v of values) {
      this.view.setInt32(this.at, v === null ? -1 : v.length);
      this.at += 4;
      if (v === null) continue;
      this.buf.set(v, this.at);
      this.at += v.length;
    }
  }

  /** text[], NULL elements allowed. */
  textArray(values: readonly (string | null)[]): void {
    let bytes = 0;
    for (const v of values) bytes += 4 + (v === null ? 0 : Buffer.byteLength(v));
    this.arrayHeader(values.length, TEXT_OID, bytes);
    for (const v of values) {
      if (v === null) {
        this.view.setInt32(this.at, -1);
        this.at += 4;
        continue;
      }
      const n = this.buf.write(v, this.at + 4, 'utf8');
      this.view.setInt32(this.at, n);
      this.at += 4 + n;
    }
  }

  /**
   * array_recv's header: dimensions, has-nulls flag, element oid, then per dimension its size and
   * lower bound. An empty array has no dimension at all (as array_send writes '{}'). `elementBytes`:
   * the elements with their length words, which the caller writes next (array_recv works out the
   * NULLs from the -1 lengths, so the flag may stay 0).
   */
  private arrayHeader(length: number, elementOid: number, elementBytes = 12 * length): void {
    const header = length === 0 ? 12 : 20;
    this.field(header + elementBytes);
    const view = this.view;
    const at = this.at;
    view.setInt32(at, length === 0 ? 0 : 1);
    view.setInt32(at + 4, 0);
    view.setInt32(at + 8, elementOid);
    if (length > 0) {
      view.setInt32(at + 12, length);
      view.setInt32(at + 16, 1);
    }
    this.at = at + header;
  }

  /** bytea: the bytes. */
  bytea(b: Uint8Array): void {
    this.field(b.length);
    this.buf.set(b, this.at);
    this.at += b.length;
  }

  nullableBytea(b: Uint8Array | null): void {
    if (b === null) this.null();
    else this.bytea(b);
  }

  /**
   * Nanoseconds since the Unix epoch → timestamptz: microseconds since 2000-01-01, rounded down (the
   * exact value is kept in the *_unix_nano column beside it).
   */
  timestamptz(unixNano: bigint): void {
    let micros = unixNano / 1000n;
    if (unixNano < 0n && micros * 1000n !== unixNano) micros -= 1n;
    this.field(8);
    this.view.setBigInt64(this.at, micros - PG_EPOCH_MICROS);
    this.at += 8;
  }

  /** Ends the row: writes its field count, and keeps room for the next row's. */
  endRow(): void {
    this.view.setInt16(this.rowStart, this.fields);
    this.rows++;
    this.fields = 0;
    this.reserve(2);
    this.rowStart = this.at;
    this.at += 2;
  }

  /** The rows ended so far: a view of the buffer, valid until the next write. */
  toBuffer(): Buffer {
    return this.buf.subarray(0, this.rowStart);
  }

  /** Empties it for the next payload, keeping its memory up to `keepBytes`. */
  reset(keepBytes: number): void {
    this.rowStart = 0;
    this.at = 2;
    this.fields = 0;
    this.rows = 0;
    if (this.buf.length > keepBytes) {
      this.buf = Buffer.allocUnsafe(keepBytes);
      this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
    }
  }
}

// As in copy-text.ts: encoding is synchronous, so one scratch buffer serves every request of the
// process, and each payload is copied out at its exact size.
const SCRATCH_BYTES = 1024 * 1024;
const scratch = new BinaryCopyBuffer(SCRATCH_BYTES);

/** Runs `write` on an empty buffer and returns a copy of the rows it wrote. */
export function copyBinary(write: (c: BinaryCopyBuffer) => void): Buffer {
  scratch.reset(SCRATCH_BYTES);
  write(scratch);
  const payload = Buffer.from(scratch.toBuffer());
  scratch.reset(SCRATCH_BYTES);
  return payload;
}
