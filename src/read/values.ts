// jsonb text as map/values.ts wrote it → OTLP/JSON AnyValue and KeyValue text (README "Attributes").
//   "s" → {"stringValue":"s"}          true → {"boolValue":true}
//   42  → {"intValue":"42"}            (digits only: an int64, copied as written, never through a number)
//   42.0, 1e3 → {"doubleValue":42}     (a decimal point or an exponent: a double)
//   [..] → {"arrayValue":{"values":[..]}}      {..} → {"kvlistValue":{"values":[{"key":..,"value":..}]}}
//   null → {}                          (the empty AnyValue)
//   {"$bytes":"b64"} → {"bytesValue":"b64"}    {"$double":"NaN"} → {"doubleValue":"NaN"} (and ±Infinity, -0)
//   {"$kvlist":{..}} → {"kvlistValue":..} of the object inside: a kvlist whose only key looked like a tag.
// jsonb is read as text (`attributes::text`) and parsed here with lossless-json, which hands every
// number token over as its literal text: that text is what tells an int from a double, and keeps
// int64 beyond 2^53 exact.
import { parse } from 'lossless-json';
import { doubleText, objectText, stringText } from './json-text.js';

/** A JSON number token, as written. */
export class NumberText {
  constructor(readonly text: string) {}
}

export type Stored = null | boolean | string | NumberText | readonly Stored[] | { readonly [key: string]: Stored };
export type StoredObject = { readonly [key: string]: Stored };

const INT = /^-?\d+$/;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const DOUBLE_TAGS: Readonly<Record<string, string>> = {
  NaN: '"NaN"',
  Infinity: '"Infinity"',
  '-Infinity': '"-Infinity"',
  '-0': '-0',
};

const PARSE_OPTIONS = { parseNumber: (token: string): NumberText => new NumberText(token) };

/** Parses jsonb text; numbers stay NumberText. Throws SyntaxError on text that is not JSON. */
export function parseStored(text: string): Stored {
  return parse(text, null, PARSE_OPTIONS) as Stored;
}

export function isStoredObject(v: Stored | undefined): v is StoredObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof NumberText);
}

/** The only key of `o`, or undefined when it has none or several. */
function onlyKey(o: StoredObject): string | undefined {
  let only: string | undefined;
  for (const key in o) {
    if (only !== undefined) return undefined;
    only = key;
  }
  return only;
}

function numberValueText(n: NumberText): string {
  if (INT.test(n.text)) {
    // An int64 as map/ wrote it. Digits beyond int64 were not written by otlp-pg; they are kept as
    // a double rather than exported as an intValue no OTLP reader would accept.
    const v = BigInt(n.text);
    if (v >= INT64_MIN && v <= INT64_MAX) return `{"intValue":"${v}"}`;
  }
  return `{"doubleValue":${doubleText(Number(n.text))}}`;
}

/** A tagged value ({"$bytes": …}, {"$double": …}, {"$kvlist": …}) as an AnyValue, or undefined if `o` is none. */
function taggedValueText(o: StoredObject): string | undefined {
  const tag = onlyKey(o);
  if (tag === undefined) return undefined;
  const inner = o[tag];
  switch (tag) {
    case '$bytes':
      return typeof inner === 'string' ? `{"bytesValue":${stringText(inner)}}` : undefined;
    case '$double': {
      const text = typeof inner === 'string' ? DOUBLE_TAGS[inner] : undefined;
      return text === undefined ? undefined : `{"doubleValue":${text}}`;
    }
    case '$kvlist':
      return isStoredObject(inner) ? kvlistText(inner) : undefined;
    default:
      return undefined;
  }
}

function kvlistText(o: StoredObject): string {
  const values = keyValuesText(o);
  return values.length === 0 ? '{"kvlistValue":{}}' : `{"kvlistValue":{"values":[${values.join(',')}]}}`;
}

/** A stored AnyValue → its OTLP/JSON text. */
export function anyValueText(v: Stored): string {
  if (v === null) return '{}';
  switch (typeof v) {
    case 'string':
      return `{"stringValue":${stringText(v)}}`;
    case 'boolean':
      return v ? '{"boolValue":true}' : '{"boolValue":false}';
  }
  if (v instanceof NumberText) return numberValueText(v);
  if (Array.isArray(v)) {
    const values = (v as readonly Stored[]).map(anyValueText);
    return values.length === 0 ? '{"arrayValue":{}}' : `{"arrayValue":{"values":[${values.join(',')}]}}`;
  }
  const o = v as StoredObject;
  return taggedValueText(o) ?? kvlistText(o);
}

/** A stored attributes object → OTLP/JSON KeyValue texts, in jsonb's key order. */
export function keyValuesText(o: StoredObject): string[] {
  const out: string[] = [];
  for (const key in o) out.push(objectText({ key: stringText(key), value: anyValueText(o[key] as Stored) }));
  return out;
}

/** The KeyValue texts of an attributes jsonb column's text. */
export function attributesText(jsonbText: string): string[] {
  const o = parseStored(jsonbText);
  if (!isStoredObject(o)) throw new TypeError(`attributes must be a JSON object, got ${jsonbText.slice(0, 40)}`);
  return keyValuesText(o);
}

// ---- fields of the JSON shapes map/ writes for events, links, exemplars and quantiles

/** A list column (events, links, exemplars, quantile_values) → its objects; null or [] → none. */
export function storedObjects(jsonbText: string | null | undefined): StoredObject[] {
  if (jsonbText === null || jsonbText === undefined) return [];
  const v = parseStored(jsonbText);
  if (!Array.isArray(v)) throw new TypeError(`expected a JSON array, got ${jsonbText.slice(0, 40)}`);
  return (v as readonly Stored[]).filter(isStoredObject);
}

export function fieldString(o: StoredObject, key: string): string {
  const v = o[key];
  return typeof v === 'string' ? v : '';
}

/** An integer field as its digits ("0" when absent). */
export function fieldDigits(o: StoredObject, key: string): string {
  const v = o[key];
  if (v instanceof NumberText) return v.text;
  return typeof v === 'string' && INT.test(v) ? v : '0';
}

export function fieldAttributes(o: StoredObject, key: string): string[] {
  const v = o[key];
  return isStoredObject(v) ? keyValuesText(v) : [];
}

/** A stored double: a number, or a {"$double": …} tag. */
export function storedDouble(v: Stored | undefined): number {
  if (v instanceof NumberText) return Number(v.text);
  if (isStoredObject(v) && typeof v.$double === 'string') return v.$double === '-0' ? -0 : Number(v.$double);
  return 0;
}

/**
 * An Exemplar's value (map/ writes it as an int's digits, a double with a point or a $double tag, or
 * null when none was set) as the fields of its oneof: { asInt: '"5"' }, { asDouble: '2.5' } or {}.
 */
export function numberValueField(v: Stored | undefined): { asInt?: string; asDouble?: string } {
  if (v instanceof NumberText && INT.test(v.text)) return { asInt: `"${v.text}"` };
  if (v instanceof NumberText || isStoredObject(v)) return { asDouble: doubleText(storedDouble(v)) };
  return {};
}
