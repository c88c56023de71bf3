// Rows in PostgreSQL's COPY text format (https://www.postgresql.org/docs/current/sql-copy.html,
// "Text Format"): columns separated by tab, rows by newline, NULL as \N, and backslash, tab,
// newline and carriage return escaped with a backslash.
//
// otlp-pg sends binary COPY (copy-binary.ts), which costs PostgreSQL and us less CPU per row. This
// encoder takes the same row writers and stays as what bench/copy-format.ts measures binary
// against, so the choice can be measured again (another PostgreSQL version, another schema).
//
// Fields are written straight into one growing Buffer: rows of twenty fields would otherwise make a
// string per field, per row and per join, all garbage a moment later (the profile of the
// end-to-end bench put COPY encoding and the GC it caused at a third of the server's CPU).

import { keyValuesOf } from '../decode/wire-attributes.js';
import type { AnyValue, Attributes } from '../map/types.js';
import { anyValueJson, attributesJson } from '../map/values.js';
import type { CopyRowWriter } from './copy-binary.js';

const TAB = 0x09;
const NEWLINE = 0x0a;
const BACKSLASH = 0x5c;
const HEX = Buffer.from('0123456789abcdef', 'latin1');
/** Strings up to this length are checked and copied a code unit at a time; longer ones natively. */
const SHORT = 64;
const NEEDS_ESCAPE = /[\\\t\n\r]/;
const MAX_SAFE_MICROS = BigInt(Number.MAX_SAFE_INTEGER);

/** One COPY text payload, built field by field; end each row with endRow(). */
export class CopyBuffer implements CopyRowWriter {
  private buf: Buffer;
  private at = 0;
  rows = 0;
  /** The second of the last timestamptz written and its text, `YYYY-MM-DDTHH:MM:SS`: times cluster. */
  private second = Number.NaN;
  private secondText = '';

  constructor(initialBytes = 256 * 1024) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  /** Room for `bytes` more. */
  private reserve(bytes: number): void {
    if (this.at + bytes <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + bytes));
    this.buf.copy(grown, 0, 0, this.at);
    this.buf = grown;
  }

  /** Text that needs no escaping and is all ASCII: numbers, and the like. */
  private ascii(s: string): void {
    const n = s.length;
    this.reserve(n + 1);
    const buf = this.buf;
    let at = this.at;
    for (let i = 0; i < n; i++) buf[at++] = s.charCodeAt(i);
    buf[at++] = TAB;
    this.at = at;
  }

  /** A text field, escaped. */
  text(s: string): void {
    const n = s.length;
    if (n <= SHORT) {
      this.reserve(n + 1);
      const buf = this.buf;
      let at = this.at;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80 || c === BACKSLASH || c === TAB || c === NEWLINE || c === 0x0d) break;
        buf[at++] = c;
      }
      if (i === n) {
        buf[at++] = TAB;
        this.at = at;
        return;
      }
    }
    this.utf8(NEEDS_ESCAPE.test(s) ? s.replace(/[\\\t\n\r]/g, escapeChar) : s);
  }

  /**
   * JSON text as map/ writes it (map/values.ts): JSON escapes every control character, so of the
   * four COPY specials only the backslash of its own escapes can occur.
   */
  json(s: string): void {
    this.utf8(s.indexOf('\\') === -1 ? s : s.replaceAll('\\', '\\\\'));
  }

  attributes(kvs: Attributes): void {
    this.json(attributesJson(keyValuesOf(kvs)));
  }

  nullableJsonValue(v: AnyValue | null): void {
    this.nullableJson(v === null ? null : anyValueJson(v));
  }

  private utf8(s: string): void {
    this.reserve(3 * s.length + 1);
    this.at += this.buf.write(s, this.at, 'utf8');
    this.buf[this.at++] = TAB;
  }

  null(): void {
    this.reserve(3);
    this.buf[this.at++] = BACKSLASH;
    this.buf[this.at++] = 0x4e; // N
    this.buf[this.at++] = TAB;
  }

  nullableText(s: string | null): void {
    if (s === null) this.null();
    else this.text(s);
  }

  nullableJson(s: string | null): void {
    if (s === null) this.null();
    else this.json(s);
  }

  /** integer: the text form is that of any integer, the column's type checks its range. */
  int4(n: number): void {
    this.ascii(n.toString());
  }

  nullableInt4(n: number | null): void {
    if (n === null) this.null();
    else this.ascii(n.toString());
  }

  int8(n: number | bigint): void {
    this.ascii(n.toString());
  }

  nullableInt8(n: number | bigint | null): void {
    if (n === null) this.null();
    else this.ascii(n.toString());
  }

  /** float8 input: shortest round-trip digits; NaN and ±Infinity as PostgreSQL spells them. */
  float8(n: number): void {
    this.ascii(float8(n));
  }

  nullableFloat8(n: number | null): void {
    if (n === null) this.null();
    else this.ascii(float8(n));
  }

  /** bigint[] literal: {1,2,3}. */
  int8Array(values: readonly bigint[] | null): void {
    if (values === null) this.null();
    else this.ascii(`{${values.join(',')}}`);
  }

  /** double precision[] literal, each element as float8() writes it. */
  float8Array(values: readonly number[] | null): void {
    if (values === null) this.null();
    else this.ascii(`{${values.map(float8).join(',')}}`);
  }

  /** bytea hex input (`\x…`), with the backslash doubled for the text format. */
  bytea(b: Uint8Array): void {
    const n = b.length;
    this.reserve(2 * n + 4);
    const buf = this.buf;
    let at = this.at;
    buf[at++] = BACKSLASH;
    buf[at++] = BACKSLASH;
    buf[at++] = 0x78; // x
    for (let i = 0; i < n; i++) {
      const byte = b[i] as number;
      buf[at++] = HEX[byte >> 4] as number;
      buf[at++] = HEX[byte & 15] as number;
    }
    buf[at++] = TAB;
    this.at = at;
  }

  nullableBytea(b: Uint8Array | null): void {
    if (b === null) this.null();
    else this.bytea(b);
  }

  /**
   * Nanoseconds since the epoch → timestamptz with microseconds (PostgreSQL's precision; the exact
   * value is kept in the *_unix_nano column beside it), as `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
   */
  timestamptz(unixNano: bigint): void {
    const micros = unixNano / 1000n;
    if (unixNano < 0n || micros > MAX_SAFE_MICROS) {
      this.ascii(timestamptz(unixNano));
      return;
    }
    const us = Number(micros);
    let second = Math.floor(us / 1e6);
    // us / 1e6 can round up to the next whole second far in the future, where doubles are sparse.
    if (second * 1e6 > us) second -= 1;
    if (second !== this.second) {
      this.second = second;
      this.secondText = new Date(second * 1000).toISOString().slice(0, 19);
    }
    let fraction = us - second * 1e6;
    this.reserve(28);
    const buf = this.buf;
    let at = this.at + buf.write(this.secondText, this.at, 'latin1');
    buf[at++] = 0x2e; // .
    for (let i = at + 5; i >= at; i--) {
      buf[i] = 0x30 + (fraction % 10);
      fraction = Math.floor(fraction / 10);
    }
    at += 6;
    buf[at++] = 0x5a; // Z
    buf[at++] = TAB;
    this.at = at;
  }

  /** Ends the row: its last field's tab becomes the newline. */
  endRow(): void {
    this.buf[this.at - 1] = NEWLINE;
    this.rows++;
  }

  /** The payload so far: a view of the buffer, valid until the next write. */
  toBuffer(): Buffer {
    return this.buf.subarray(0, this.at);
  }

  /** Empties it for the next payload, keeping its memory up to `keepBytes`. */
  reset(keepBytes: number): void {
    this.at = 0;
    this.rows = 0;
    if (this.buf.length > keepBytes) this.buf = Buffer.allocUnsafe(keepBytes);
  }
}

// Encoding is synchronous, so one scratch buffer serves every request of the process; each
// payload is then copied out at its exact size (a request's rows wait for their batch in it).
// After an unusually large request the scratch buffer shrinks back, so it holds no memory for long.
const SCRATCH_BYTES = 1024 * 1024;
const scratch = new CopyBuffer(SCRATCH_BYTES);

/** Runs `write` on an empty buffer and returns a copy of what it wrote. */
export function copyText(write: (c: CopyBuffer) => void): Buffer {
  scratch.reset(SCRATCH_BYTES);
  write(scratch);
  const payload = Buffer.from(scratch.toBuffer());
  scratch.reset(SCRATCH_BYTES);
  return payload;
}

function escapeChar(c: string): string {
  return c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r';
}

function float8(n: number): string {
  return Object.is(n, -0) ? '-0' : String(n);
}

/** The timestamptz text of any time, the slow way (before 1970, or past what a double holds exactly). */
export function timestamptz(unixNano: bigint): string {
  let micros = unixNano / 1000n;
  if (micros * 1000n > unixNano) micros -= 1n; // floor, for times before 1970
  let second = micros / 1_000_000n;
  let fraction = micros - second * 1_000_000n;
  if (fraction < 0n) {
    fraction += 1_000_000n;
    second -= 1n;
  }
  const iso = new Date(Number(second) * 1000).toISOString().slice(0, 19);
  return `${iso}.${fraction.toString().padStart(6, '0')}Z`;
}
