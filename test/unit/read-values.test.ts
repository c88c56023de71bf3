// Stored jsonb text → OTLP/JSON AnyValue text: every value type, and map/values.ts' writing read back.
import { describe, expect, it } from 'vitest';
import { decodeRequest } from '../../src/decode/index.js';
import type { AnyValue, KeyValue } from '../../src/decode/types.js';
import { anyValueJson, attributesJson } from '../../src/map/values.js';
import { doubleText, objectText, optDouble, optInt64 } from '../../src/read/json-text.js';
import { anyValueText, attributesText, numberValueField, parseStored, storedDouble } from '../../src/read/values.js';

const read = (jsonb: string): unknown => JSON.parse(anyValueText(parseStored(jsonb)));

/** An AnyValue through our OTLP/JSON decoder, as the body of a log record. */
function decodeAnyValue(text: string): AnyValue | undefined {
  const body = Buffer.from(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":${text}}]}]}]}`);
  return decodeRequest('logs', body, 'json').resourceLogs[0]?.scopeLogs[0]?.logRecords[0]?.body;
}

const s = (value: string): AnyValue => ({ kind: 'string', value });
const i = (value: bigint): AnyValue => ({ kind: 'int', value });
const d = (value: number): AnyValue => ({ kind: 'double', value });
const kv = (key: string, value: AnyValue): KeyValue => ({ key, value });
const kvlist = (...value: KeyValue[]): AnyValue => ({ kind: 'kvlist', value });

describe('anyValueText', () => {
  it('reads scalars', () => {
    expect(read('"hello"')).toEqual({ stringValue: 'hello' });
    expect(read('""')).toEqual({ stringValue: '' });
    expect(read('true')).toEqual({ boolValue: true });
    expect(read('false')).toEqual({ boolValue: false });
    expect(read('null')).toEqual({});
  });

  it('tells ints (digits only) from doubles (a point or an exponent) by their text', () => {
    expect(read('0')).toEqual({ intValue: '0' });
    expect(read('-42')).toEqual({ intValue: '-42' });
    expect(read('1.0')).toEqual({ doubleValue: 1 });
    expect(read('0.0')).toEqual({ doubleValue: 0 });
    expect(read('1e3')).toEqual({ doubleValue: 1000 });
    expect(anyValueText(parseStored('1.0'))).toBe('{"doubleValue":1}');
  });

  it('keeps int64 beyond 2^53 exact, to both ends of the range', () => {
    expect(anyValueText(parseStored('9007199254740993'))).toBe('{"intValue":"9007199254740993"}');
    expect(anyValueText(parseStored('9223372036854775807'))).toBe('{"intValue":"9223372036854775807"}');
    expect(anyValueText(parseStored('-9223372036854775808'))).toBe('{"intValue":"-9223372036854775808"}');
    // Not an int64 (otlp-pg never writes one): a double rather than an intValue no reader accepts.
    expect(read('9223372036854775808')).toEqual({ doubleValue: 9223372036854775808 });
  });

  it('reads doubles written without exponent back to the same double', () => {
    expect(anyValueText(parseStored('1000000000000000000000.0'))).toBe('{"doubleValue":1e+21}');
    expect(anyValueText(parseStored(`0.${'0'.repeat(323)}5`))).toBe('{"doubleValue":5e-324}');
    expect(read(`179769313486231570${'0'.repeat(291)}.0`)).toEqual({ doubleValue: Number.MAX_VALUE });
    expect(read('0.1')).toEqual({ doubleValue: 0.1 });
  });

  it('reads the $double tags as OTLP/JSON writes those doubles', () => {
    expect(anyValueText(parseStored('{"$double": "NaN"}'))).toBe('{"doubleValue":"NaN"}');
    expect(anyValueText(parseStored('{"$double": "Infinity"}'))).toBe('{"doubleValue":"Infinity"}');
    expect(anyValueText(parseStored('{"$double": "-Infinity"}'))).toBe('{"doubleValue":"-Infinity"}');
    expect(anyValueText(parseStored('{"$double": "-0"}'))).toBe('{"doubleValue":-0}');
    expect(Object.is((read('{"$double": "-0"}') as { doubleValue: number }).doubleValue, -0)).toBe(true);
  });

  it('reads bytes as base64', () => {
    expect(read('{"$bytes": "AAH/"}')).toEqual({ bytesValue: 'AAH/' });
    expect(read('{"$bytes": ""}')).toEqual({ bytesValue: '' });
  });

  it('reads arrays and nested kvlists', () => {
    expect(read('[]')).toEqual({ arrayValue: {} });
    expect(read('{}')).toEqual({ kvlistValue: {} });
    expect(read('[1, 2.5, "x", null, [true]]')).toEqual({
      arrayValue: { values: [{ intValue: '1' }, { doubleValue: 2.5 }, { stringValue: 'x' }, {}, { arrayValue: { values: [{ boolValue: true }] } }] },
    });
    expect(read('{"a": {"b": {"c": 1}}, "n": null}')).toEqual({
      kvlistValue: {
        values: [
          { key: 'a', value: { kvlistValue: { values: [{ key: 'b', value: { kvlistValue: { values: [{ key: 'c', value: { intValue: '1' } }] } } }] } } },
          { key: 'n', value: {} },
        ],
      },
    });
  });

  it('unwraps $kvlist, and takes an object with a tag among other keys as a kvlist', () => {
    expect(read('{"$kvlist": {"$bytes": "AA=="}}')).toEqual({ kvlistValue: { values: [{ key: '$bytes', value: { stringValue: 'AA==' } }] } });
    expect(read('{"$kvlist": {"$kvlist": {}}}')).toEqual({ kvlistValue: { values: [{ key: '$kvlist', value: { kvlistValue: {} } }] } });
    expect(read('{"$bytes": "AA==", "x": 1}')).toEqual({
      kvlistValue: { values: [{ key: '$bytes', value: { stringValue: 'AA==' } }, { key: 'x', value: { intValue: '1' } }] },
    });
  });

  it('keeps keys that are special to JavaScript as plain keys', () => {
    expect(attributesText('{"__proto__": 1, "constructor": "c"}').map((t) => JSON.parse(t))).toEqual([
      { key: '__proto__', value: { intValue: '1' } },
      { key: 'constructor', value: { stringValue: 'c' } },
    ]);
  });
});

describe('map/values.ts writing, read back, equals the value sent', () => {
  const values: [string, AnyValue][] = [
    ['string', s('héllo "quoted" \\ \n')],
    ['empty string', s('')],
    ['bool', { kind: 'bool', value: false }],
    ['int 0', i(0n)],
    ['int64 max', i(9223372036854775807n)],
    ['int64 min', i(-9223372036854775808n)],
    ['int beyond 2^53', i(-9007199254740993n)],
    ['double 1.0', d(1)],
    ['double 0', d(0)],
    ['double 1e21', d(1e21)],
    ['double 5e-324', d(5e-324)],
    ['double max', d(Number.MAX_VALUE)],
    ['double 0.1', d(0.1)],
    ['NaN', d(NaN)],
    ['Infinity', d(Infinity)],
    ['-Infinity', d(-Infinity)],
    ['-0', d(-0)],
    ['bytes', { kind: 'bytes', value: Buffer.from([0, 1, 255]) }],
    ['empty bytes', { kind: 'bytes', value: Buffer.alloc(0) }],
    ['empty', { kind: 'empty' }],
    ['array', { kind: 'array', value: [i(1n), d(2), s('3'), { kind: 'empty' }, { kind: 'array', value: [] }] }],
    ['kvlist', kvlist(kv('a', i(1n)), kv('b', kvlist(kv('c', d(NaN)), kv('d', { kind: 'bytes', value: Buffer.from('x') }))))],
    ['kvlist whose only key is a tag', kvlist(kv('$double', s('NaN')))],
    ['kvlist whose only key is $kvlist', kvlist(kv('$kvlist', kvlist(kv('$bytes', s('AA==')))))],
    ['empty kvlist', kvlist()],
  ];

  it.each(values)('%s', (_name, value) => {
    // Through PostgreSQL, jsonb adds spaces and reorders keys; the integration test covers that.
    expect(decodeAnyValue(anyValueText(parseStored(anyValueJson(value))))).toEqual(value);
  });

  it('attributes, every type at once', () => {
    const kvs = values.map(([name, value]) => kv(name, value));
    expect(attributesText(attributesJson(kvs)).map((t) => JSON.parse(t) as unknown)).toHaveLength(kvs.length);
    const body = `{"kvlistValue":{"values":[${attributesText(attributesJson(kvs)).join(',')}]}}`;
    expect(decodeAnyValue(body)).toEqual(kvlist(...kvs));
  });
});

describe('numbers of data points', () => {
  it('doubleText writes what JSON.stringify cannot', () => {
    expect(doubleText(NaN)).toBe('"NaN"');
    expect(doubleText(Infinity)).toBe('"Infinity"');
    expect(doubleText(-Infinity)).toBe('"-Infinity"');
    expect(doubleText(-0)).toBe('-0');
    expect(doubleText(1e21)).toBe('1e+21');
    expect(doubleText(5e-324)).toBe('5e-324');
  });

  it('leaves out +0 and "0" defaults, never -0', () => {
    expect(objectText({ a: optDouble(0), b: optDouble(-0), c: optInt64('0'), d: optInt64('18446744073709551') })).toBe('{"b":-0,"d":"18446744073709551"}');
  });

  it('reads exemplar values as asInt or asDouble by their stored text', () => {
    expect(numberValueField(parseStored('9007199254740993'))).toEqual({ asInt: '"9007199254740993"' });
    expect(numberValueField(parseStored('2.0'))).toEqual({ asDouble: '2' });
    expect(numberValueField(parseStored('{"$double": "NaN"}'))).toEqual({ asDouble: '"NaN"' });
    expect(numberValueField(parseStored('null'))).toEqual({});
    expect(Object.is(storedDouble(parseStored('{"$double": "-0"}')), -0)).toBe(true);
  });
});
