// Values in PostgreSQL's COPY text format (https://www.postgresql.org/docs/current/sql-copy.html,
// "Text Format"): columns separated by tab, rows by newline, NULL as \N, and backslash, tab,
// newline and carriage return escaped with a backslash.

export const NULL = '\\N';

const NEEDS_ESCAPE = /[\\\t\n\r]/;

export function text(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return s;
  return s.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

/** bytea hex input, with the backslash doubled for the text format. */
export function bytea(b: Uint8Array): string {
  return `\\\\x${Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')}`;
}

export function nullableBytea(b: Uint8Array | null): string {
  return b === null ? NULL : bytea(b);
}

/**
 * Nanoseconds since the epoch → timestamptz literal with microseconds (PostgreSQL's precision;
 * the exact value is kept in the *_unix_nano column beside it).
 */
export function timestamptz(unixNano: bigint): string {
  const micros = unixNano / 1000n;
  const millis = micros / 1000n;
  let sub = Number(micros - millis * 1000n);
  let ms = Number(millis);
  if (sub < 0) {
    sub += 1000;
    ms -= 1;
  }
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  return `${iso.slice(0, -1)}${String(sub).padStart(3, '0')}Z`;
}

/** Builds one COPY payload; rows are appended as arrays of already-formatted fields. */
export class CopyBuffer {
  private readonly parts: string[] = [];
  rows = 0;

  add(fields: readonly string[]): void {
    this.parts.push(fields.join('\t'), '\n');
    this.rows++;
  }

  toBuffer(): Buffer {
    return Buffer.from(this.parts.join(''), 'utf8');
  }
}

/** float8 input: shortest round-trip digits; NaN and ±Infinity as PostgreSQL spells them. */
export function float8(n: number): string {
  return Object.is(n, -0) ? '-0' : String(n);
}

export function nullableFloat8(n: number | null): string {
  return n === null ? NULL : float8(n);
}

export function nullableInt(n: bigint | number | null): string {
  return n === null ? NULL : n.toString();
}

/** An array literal of numbers: {1,2,3}. */
export function numberArray(values: readonly (bigint | number)[] | null): string {
  if (values === null) return NULL;
  let out = '{';
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as bigint | number;
    if (i > 0) out += ',';
    out += typeof v === 'number' ? float8(v) : v.toString();
  }
  return `${out}}`;
}

export function nullableText(s: string | null): string {
  return s === null ? NULL : text(s);
}
