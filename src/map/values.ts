import type { AnyValue, ItemAttributes, KeyValue } from '../decode/types.js';
import { WireAttributes } from '../decode/wire-attributes.js';

// OTLP values → jsonb text that keeps their types (README "Attributes"):
//   string → "s"     bool → true     int → 42 (exact digits, never through a JS number)
//   double → 42.0    (always with a decimal point and never an exponent: PostgreSQL's jsonb numeric
//                     keeps the digits as written, so a double stays told apart from an int)
//   array → [..]     kvlist → {..}   empty → null
//   bytes → {"$bytes": "<base64>"}   NaN/±Infinity/-0 → {"$double": "NaN" | "Infinity" | "-Infinity" | "-0"}
//   a nested kvlist whose only key is one of those tags → {"$kvlist": {..}}, so reading stays unambiguous.
// PostgreSQL cannot hold U+0000 in text or jsonb, nor unpaired surrogates; such strings are made
// storable by replacing the offending code units with U+FFFD.

/** The keys that tag a value; a kvlist of one such key alone is wrapped in "$kvlist". */
export const TAGGED_KEYS: ReadonlySet<string> = new Set(['$bytes', '$double', '$kvlist']);

// Strings changed by storableString since the last takeReplaced(). Mapping a request is synchronous,
// so a map function that calls takeReplaced() before and after counts exactly its own.
let replaced = 0;

export function storableString(s: string): string {
  let out = s;
  if (out.includes('\0')) out = out.replaceAll('\0', '\uFFFD');
  if (!out.isWellFormed()) out = out.toWellFormed();
  if (out !== s) replaced++;
  return out;
}

/** How many strings storableString changed since the last call; resets the count. */
export function takeReplaced(): number {
  const n = replaced;
  replaced = 0;
  return n;
}

/** Counts `n` strings as changed again: those of a row made earlier and handed out once more. */
export function addReplaced(n: number): void {
  replaced += n;
}

/** The value with every string in it made storable (storableString, counted); the same value when none needed it. */
export function storableValue(v: AnyValue): AnyValue {
  switch (v.kind) {
    case 'string': {
      const s = storableString(v.value);
      return s === v.value ? v : { kind: 'string', value: s };
    }
    case 'array': {
      let out: AnyValue[] | undefined;
      for (let i = 0; i < v.value.length; i++) {
        const item = v.value[i] as AnyValue;
        const stored = storableValue(item);
        if (out === undefined && stored !== item) out = v.value.slice(0, i);
        out?.push(stored);
      }
      return out === undefined ? v : { kind: 'array', value: out };
    }
    case 'kvlist': {
      const kvs = storableAttributes(v.value);
      return kvs === v.value ? v : { kind: 'kvlist', value: kvs };
    }
    default:
      return v;
  }
}

/**
 * The attributes with every string, keys and nested values too, made storable (storableString,
 * counted); the same array when none needed it, which is nearly always.
 */
export function storableAttributes<A extends ItemAttributes>(kvs: A): A | KeyValue[] {
  // Attributes kept as bytes are storable as they are: only plain ones are kept so.
  if (kvs instanceof WireAttributes) return kvs;
  let out: KeyValue[] | undefined;
  for (let i = 0; i < kvs.length; i++) {
    const kv = kvs[i] as KeyValue;
    const key = storableString(kv.key);
    const value = storableValue(kv.value);
    const same = key === kv.key && value === kv.value;
    if (out === undefined && !same) out = kvs.slice(0, i);
    out?.push(same ? kv : { key, value });
  }
  return out ?? kvs;
}

/** Strings up to this length are checked a code unit at a time for the fast path of jsonString. */
const SHORT = 64;

export function jsonString(s: string): string {
  // Most keys and values are short printable ASCII, which JSON writes as is, quoted, and which
  // storableString would leave alone: checking that here is cheaper than the general path.
  const n = s.length;
  if (n <= SHORT) {
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) break;
    }
    if (i === n) return `"${s}"`;
  }
  return JSON.stringify(storableString(s));
}

/** A finite double as a plain decimal with a decimal point: shortest round-trip digits, no exponent. */
export function plainDouble(n: number): string {
  if (Object.is(n, -0)) return '-0.0';
  const s = String(n);
  const e = s.indexOf('e');
  if (e < 0) return s.includes('.') ? s : `${s}.0`;
  const negative = s.startsWith('-');
  const mantissa = s.slice(negative ? 1 : 0, e);
  const exponent = Number(s.slice(e + 1));
  const dot = mantissa.indexOf('.');
  const digits = dot < 0 ? mantissa : mantissa.slice(0, dot) + mantissa.slice(dot + 1);
  const pointAt = (dot < 0 ? mantissa.length : dot) + exponent;
  let plain: string;
  if (pointAt <= 0) plain = `0.${'0'.repeat(-pointAt)}${digits}`;
  else if (pointAt >= digits.length) plain = `${digits}${'0'.repeat(pointAt - digits.length)}.0`;
  else plain = `${digits.slice(0, pointAt)}.${digits.slice(pointAt)}`;
  return negative ? `-${plain}` : plain;
}

export function doubleJson(n: number): string {
  // jsonb's numeric has no negative zero, so -0.0 is tagged like the other IEEE specials.
  if (Object.is(n, -0)) return '{"$double":"-0"}';
  if (Number.isFinite(n)) return plainDouble(n);
  return `{"$double":"${Number.isNaN(n) ? 'NaN' : n > 0 ? 'Infinity' : '-Infinity'}"}`;
}

export function anyValueJson(v: AnyValue): string {
  switch (v.kind) {
    case 'string':
      return jsonString(v.value);
    case 'bool':
      return v.value ? 'true' : 'false';
    case 'int':
      return v.value.toString();
    case 'double':
      return doubleJson(v.value);
    case 'bytes':
      return `{"$bytes":"${Buffer.from(v.value.buffer, v.value.byteOffset, v.value.byteLength).toString('base64')}"}`;
    case 'array': {
      let out = '[';
      for (let i = 0; i < v.value.length; i++) {
        if (i > 0) out += ',';
        out += anyValueJson(v.value[i] as AnyValue);
      }
      return `${out}]`;
    }
    case 'kvlist': {
      const obj = attributesJson(v.value);
      const only = v.value.length === 1 ? v.value[0] : undefined;
      return only && TAGGED_KEYS.has(only.key) ? `{"$kvlist":${obj}}` : obj;
    }
    case 'empty':
      return 'null';
  }
}

/**
 * Attributes as a jsonb object. Duplicate keys are written as they come; jsonb keeps the last,
 * which is the Collector's behaviour for a map built from the wire.
 */
export function attributesJson(kvs: readonly KeyValue[]): string {
  if (kvs.length === 0) return '{}';
  let out = '{';
  for (let i = 0; i < kvs.length; i++) {
    const kv = kvs[i] as KeyValue;
    if (i > 0) out += ',';
    out += jsonString(kv.key);
    out += ':';
    out += anyValueJson(kv.value);
  }
  return `${out}}`;
}

export function hex(id: Uint8Array): string {
  return Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex');
}

/** The string value of `key`, if the attributes hold one. */
export function stringAttribute(kvs: readonly KeyValue[], key: string): string | undefined {
  let found: string | undefined;
  for (const kv of kvs) if (kv.key === key && kv.value.kind === 'string') found = kv.value.value;
  return found;
}
