// OTLP/JSON written as text, field by field, the way map/values.ts writes jsonb: no object tree and
// no JSON.stringify of numbers, because JSON.stringify cannot write what OTLP/JSON needs here
// (-0 as a number, NaN and the infinities as strings, int64 exact).
// https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding
//
// Defaults: a scalar field at its proto3 default (0, "", false, empty list) is omitted, as the proto3
// JSON mapping does by default and as the Collector writes. Always present: the members of a oneof
// (AnyValue, NumberDataPoint.value: `{"intValue":"0"}` is not `{}`), optional fields that are set
// (histogram sum/min/max), KeyValue.key and .value, and the resource, scope and status messages.

/** A field's JSON text, or undefined to leave the field out. */
export type FieldText = string | undefined;

/** `{"a":1,"b":"x"}` from fields in order; undefined fields are left out. Keys are plain identifiers. */
export function objectText(fields: Readonly<Record<string, FieldText>>): string {
  let out = '{';
  for (const key in fields) {
    const value = fields[key];
    if (value === undefined) continue;
    if (out.length > 1) out += ',';
    out += `"${key}":${value}`;
  }
  return `${out}}`;
}

export function stringText(s: string): string {
  return JSON.stringify(s);
}

/**
 * A double as OTLP/JSON writes it: a JSON number, or "NaN" / "Infinity" / "-Infinity" (proto3 JSON).
 * String(n) is the shortest text that reads back as the same double, and a valid JSON number
 * (1e+21, 5e-324); -0 is written as the number -0, which JSON.stringify would turn into 0.
 */
export function doubleText(n: number): string {
  if (Number.isNaN(n)) return '"NaN"';
  if (n === Infinity) return '"Infinity"';
  if (n === -Infinity) return '"-Infinity"';
  if (Object.is(n, -0)) return '-0';
  return String(n);
}

// ---- optional fields: undefined at the proto3 default

export function optString(s: string): FieldText {
  return s === '' ? undefined : stringText(s);
}

/** int32/uint32 fields (counts, enums, flags): JSON numbers. */
export function optInt(n: number): FieldText {
  return n === 0 ? undefined : String(n);
}

/** 64-bit integers are decimal strings in OTLP/JSON; `digits` is PostgreSQL's text of a bigint. */
export function optInt64(digits: string): FieldText {
  return digits === '0' ? undefined : `"${digits}"`;
}

/** A double field without presence: +0 is the default, -0 is not (its bits differ). */
export function optDouble(n: number): FieldText {
  return Object.is(n, 0) ? undefined : doubleText(n);
}

export function optBool(b: boolean): FieldText {
  return b ? 'true' : undefined;
}

/** Ids are lowercase hex (PostgreSQL's encode(…, 'hex')); empty means absent. */
export function optHex(hex: string | null | undefined): FieldText {
  return hex === null || hex === undefined || hex === '' ? undefined : `"${hex}"`;
}

export function optList(items: readonly string[]): FieldText {
  return items.length === 0 ? undefined : `[${items.join(',')}]`;
}

// ---- PostgreSQL text values (rows arrive as text: see cursor.ts)

/**
 * integer / bigint column text → number, for the 32-bit fields (int32, sint32, uint32, fixed32: every
 * value is exact as a number). uint32 counts are bigint columns, as integer stops at 2^31−1.
 */
export function int32Of(text: string | null | undefined): number {
  return text === null || text === undefined ? 0 : Number(text);
}

/**
 * float8 text → number. PostgreSQL writes NaN, Infinity, -Infinity and -0 as those words, which
 * Number() reads; with extra_float_digits > 0 the digits are the shortest exact ones.
 */
export function float8Of(text: string): number {
  return Number(text);
}

/** A one-dimensional array of numbers as PostgreSQL writes it, `{1,2,3}`, → its element texts. */
export function arrayItems(text: string): string[] {
  const inner = text.slice(1, -1);
  return inner === '' ? [] : inner.split(',');
}
