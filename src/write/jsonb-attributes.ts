// Attributes as jsonb text written byte by byte into a COPY buffer, the same text that
// map/values.ts attributesJson() makes as a string (a test holds the two equal). Per span the
// string was built piece by piece, flattened, and then encoded to UTF-8 again: three passes and
// garbage, where this makes one pass and none for the printable ASCII most keys and values are.

import type { AnyValue, Attributes, KeyValue } from '../map/types.js';
// The jsonb format of a value is defined once, in map/values.ts; only strings and containers are
// written here without going through a string.
import { anyValueJson, TAGGED_KEYS } from '../map/values.js';

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
