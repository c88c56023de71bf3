import { describe, expect, it } from 'vitest';
import type { AnyValue, KeyValue } from '../../src/decode/types.js';
import { anyValueJson, attributesJson, storableAttributes, storableValue, takeReplaced } from '../../src/map/values.js';
import { BINARY_HEADER, BINARY_TRAILER, BinaryCopyBuffer, copyBinary } from '../../src/write/copy-binary.js';
import { Rng } from '../helpers/random-requests.js';

/** The bytes, as hex, of one row of the fields `write` writes: field count, then each field. */
function row(write: (c: BinaryCopyBuffer) => void): string {
  const c = new BinaryCopyBuffer(8); // tiny, so every test also grows the buffer
  write(c);
  c.endRow();
  return c.toBuffer().toString('hex');
}

/** One field's bytes after a field count of 1: its int32 length, then its value. */
const one = (hex: string): string => `0001${(hex.length / 2).toString(16).padStart(8, '0')}${hex}`;
const NULL = '0001ffffffff';

describe('COPY binary format', () => {
  it('frames a stream with the signature, flags, extension length and the -1 trailer', () => {
    expect(BINARY_HEADER.toString('hex')).toBe('5047434f50590aff0d0a00' + '00000000' + '00000000');
    expect(BINARY_TRAILER.toString('hex')).toBe('ffff');
  });

  it('writes text and jsonb as UTF-8, jsonb after its version byte', () => {
    expect(row((c) => c.text('a\tb\\'))).toBe(one('6109625c')); // no escapes, unlike COPY text
    expect(row((c) => c.text(''))).toBe(one(''));
    expect(row((c) => c.text('é☃😀'))).toBe(one(Buffer.from('é☃😀').toString('hex')));
    const long = `${'x'.repeat(100)}ü`;
    expect(row((c) => c.text(long))).toBe(one(Buffer.from(long).toString('hex')));
    expect(row((c) => c.json('{"k":"\\n"}'))).toBe(one(`01${Buffer.from('{"k":"\\n"}').toString('hex')}`));
    expect(row((c) => c.nullableText(null))).toBe(NULL);
    expect(row((c) => c.nullableJson(null))).toBe(NULL);
  });

  it('writes int4 and int8 in two’s complement, big-endian, exact beyond 2^53', () => {
    expect(row((c) => c.int4(1))).toBe(one('00000001'));
    expect(row((c) => c.int4(-2))).toBe(one('fffffffe'));
    expect(row((c) => c.int4(2 ** 31 - 1))).toBe(one('7fffffff'));
    expect(row((c) => c.int8(1))).toBe(one('0000000000000001'));
    expect(row((c) => c.int8(-1))).toBe(one('ffffffffffffffff'));
    expect(row((c) => c.int8(4294967295))).toBe(one('00000000ffffffff'));
    expect(row((c) => c.int8(9007199254740993n))).toBe(one('0020000000000001'));
    expect(row((c) => c.int8(-9223372036854775808n))).toBe(one('8000000000000000'));
    expect(row((c) => c.nullableInt4(null))).toBe(NULL);
    expect(row((c) => c.nullableInt8(null))).toBe(NULL);
  });

  it('refuses a number outside the column type rather than send another one', () => {
    const c = new BinaryCopyBuffer();
    expect(() => c.int4(2 ** 31)).toThrow(RangeError);
    expect(() => c.int4(1.5)).toThrow(RangeError);
    expect(() => c.int8(18446744073709551615n)).toThrow(RangeError);
    expect(() => c.int8Array([1n << 63n])).toThrow(RangeError);
  });

  it('writes float8 as IEEE 754, NaN, infinities and -0 included', () => {
    expect(row((c) => c.float8(1.5))).toBe(one('3ff8000000000000'));
    expect(row((c) => c.float8(-2))).toBe(one('c000000000000000'));
    expect(row((c) => c.float8(-0))).toBe(one('8000000000000000'));
    expect(row((c) => c.float8(Number.NaN))).toBe(one('7ff8000000000000'));
    expect(row((c) => c.float8(Infinity))).toBe(one('7ff0000000000000'));
    expect(row((c) => c.float8(-Infinity))).toBe(one('fff0000000000000'));
    expect(row((c) => c.nullableFloat8(null))).toBe(NULL);
  });

  it('writes one-dimensional arrays with the element oid, and empty arrays with no dimension', () => {
    // ndim 1, no NULLs, element oid (int8 20, float8 701), size and lower bound 1, then each element.
    const int8Header = '00000001' + '00000000' + '00000014' + '00000002' + '00000001';
    expect(row((c) => c.int8Array([-3n, 255n]))).toBe(one(`${int8Header}00000008fffffffffffffffd0000000800000000000000ff`));
    const float8Header = '00000001' + '00000000' + '000002bd' + '00000001' + '00000001';
    expect(row((c) => c.float8Array([0.5]))).toBe(one(`${float8Header}000000083fe0000000000000`));
    expect(row((c) => c.int8Array([]))).toBe(one('000000000000000000000014'));
    expect(row((c) => c.float8Array([]))).toBe(one('0000000000000000000002bd'));
    expect(row((c) => c.int8Array(null))).toBe(NULL);
  });

  it('writes int4, bytea and text arrays, a NULL element as length -1', () => {
    const header = (oid: string, n: number): string => `00000001${'00000000'}${oid}${n.toString(16).padStart(8, '0')}00000001`;
    expect(row((c) => c.int4Array([-1, 7]))).toBe(one(`${header('00000017', 2)}00000004ffffffff0000000400000007`));
    expect(row((c) => c.byteaArray([new Uint8Array([0xab]), null, new Uint8Array(0)]))).toBe(one(`${header('00000011', 3)}00000001abffffffff00000000`));
    expect(row((c) => c.textArray(['é', null]))).toBe(one(`${header('00000019', 2)}00000002c3a9ffffffff`));
    expect(row((c) => c.textArray([]))).toBe(one('000000000000000000000019'));
  });

  it('writes bytea raw and timestamptz as microseconds since 2000-01-01, rounded down', () => {
    expect(row((c) => c.bytea(new Uint8Array([0xab, 0x00, 0xff])))).toBe(one('ab00ff'));
    expect(row((c) => c.bytea(new Uint8Array(0)))).toBe(one(''));
    expect(row((c) => c.nullableBytea(null))).toBe(NULL);
    expect(row((c) => c.timestamptz(946684800000000000n))).toBe(one('0000000000000000'));
    expect(row((c) => c.timestamptz(946684800000001999n))).toBe(one('0000000000000001'));
    expect(row((c) => c.timestamptz(946684799999999999n))).toBe(one('ffffffffffffffff'));
    // 1970-01-01 is 946684800 s before PostgreSQL's epoch; one nanosecond before it rounds down a µs.
    expect(row((c) => c.timestamptz(0n))).toBe(one((-946684800000000n & 0xffffffffffffffffn).toString(16)));
    expect(row((c) => c.timestamptz(-1n))).toBe(one((-946684800000001n & 0xffffffffffffffffn).toString(16)));
    expect(row((c) => c.timestamptz(9223372036854775807n))).toBe(one((9223372036854775n - 946684800000000n).toString(16).padStart(16, '0')));
  });

  it('counts each row’s fields, and a NULL is a field', () => {
    const c = new BinaryCopyBuffer(4);
    c.int4(1);
    c.null();
    c.endRow();
    c.text('a');
    c.endRow();
    expect(c.rows).toBe(2);
    expect(c.toBuffer().toString('hex')).toBe('0002' + '0000000400000001' + 'ffffffff' + '0001' + '0000000161');
  });

  it('hands out each payload as its own copy, rows only, also after one larger than the scratch buffer', () => {
    const first = copyBinary((c) => {
      c.text('first');
      c.endRow();
    });
    const big = copyBinary((c) => {
      for (let i = 0; i < 5000; i++) {
        c.text('x'.repeat(300));
        c.endRow();
      }
    });
    const third = copyBinary((c) => {
      c.text('third');
      c.endRow();
    });
    expect(first.toString('hex')).toBe(`000100000005${Buffer.from('first').toString('hex')}`);
    expect(big.length).toBe(5000 * (2 + 4 + 300));
    expect(third.toString('hex')).toBe(`000100000005${Buffer.from('third').toString('hex')}`);
  });
});

describe('attributes written straight into the COPY buffer', () => {
  const s = (value: string): AnyValue => ({ kind: 'string', value });
  const kv = (key: string, value: AnyValue): KeyValue => ({ key, value });

  /** The field c.attributes() writes must be the field c.json(attributesJson()) writes, byte for byte. */
  const same = (kvs: readonly KeyValue[]): void => {
    const stored = storableAttributes(kvs);
    expect(row((c) => c.attributes(stored))).toBe(row((c) => c.json(attributesJson(kvs))));
  };

  it('writes every kind of value as attributesJson does', () => {
    same([]);
    same([kv('a', s('x')), kv('b', { kind: 'bool', value: true }), kv('c', { kind: 'int', value: -9223372036854775808n })]);
    same([kv('d', { kind: 'double', value: 1.5e-7 }), kv('nan', { kind: 'double', value: NaN }), kv('z', { kind: 'double', value: -0 })]);
    same([kv('bytes', { kind: 'bytes', value: new Uint8Array([0, 1, 255]) }), kv('e', { kind: 'empty' })]);
    same([kv('arr', { kind: 'array', value: [s('x'), { kind: 'array', value: [] }, { kind: 'kvlist', value: [] }] })]);
    same([kv('tagged', { kind: 'kvlist', value: [kv('$bytes', s('not bytes'))] }), kv('two', { kind: 'kvlist', value: [kv('$double', s('1')), kv('x', s('y'))] })]);
  });

  it('escapes as JSON.stringify does, and writes UTF-8 of any length', () => {
    same([kv('q"uote', s('back\\slash')), kv('ctl', s('\n\t\u0001\u007f')), kv('é', s('☃😀'))]);
    same([kv('long', s(`${'x'.repeat(1000)}"`)), kv('longü', s('ü'.repeat(5000)))]);
    same([kv('', s(''))]);
  });

  it('writes the storable form of strings PostgreSQL cannot hold, which storableAttributes counts', () => {
    takeReplaced();
    const kvs = [kv('k\0', s('v\uDC00')), kv('ok', { kind: 'array', value: [s('a\0')] }), kv('n', { kind: 'kvlist', value: [kv('x', s('\uD800'))] })];
    same(kvs);
    expect(takeReplaced()).toBe(8); // storableAttributes and attributesJson each replaced 4 strings
    const clean = [kv('a', s('b')), kv('n', { kind: 'kvlist', value: [kv('x', { kind: 'array', value: [s('y')] })] })];
    expect(storableAttributes(clean)).toBe(clean);
  });

  it('agrees with attributesJson on random values, through buffer growth', () => {
    const seed = Number(process.env.TEST_SEED ?? 20261202);
    const rng = new Rng(seed);
    const text = (): string => {
      let out = '';
      const n = Math.floor(rng.next() * 80);
      for (let k = 0; k < n; k++) out += String.fromCharCode(rng.next() < 0.8 ? 0x20 + Math.floor(rng.next() * 95) : Math.floor(rng.next() * 0x10000));
      return out;
    };
    const value = (depth: number): AnyValue => {
      const r = rng.next();
      if (r < 0.5 || depth > 2) return s(text());
      if (r < 0.6) return { kind: 'int', value: BigInt(Math.floor((rng.next() - 0.5) * 2 ** 53)) };
      if (r < 0.7) return { kind: 'double', value: (rng.next() - 0.5) * 10 ** Math.floor(rng.next() * 40 - 20) };
      if (r < 0.8) return { kind: 'array', value: Array.from({ length: Math.floor(rng.next() * 4) }, () => value(depth + 1)) };
      return { kind: 'kvlist', value: Array.from({ length: Math.floor(rng.next() * 4) }, () => kv(text(), value(depth + 1))) };
    };
    for (let k = 0; k < 500; k++) {
      const kvs = Array.from({ length: Math.floor(rng.next() * 12) }, () => kv(text(), value(0)));
      expect(row((c) => c.attributes(storableAttributes(kvs))), `seed ${seed}, case ${k}`).toBe(row((c) => c.json(attributesJson(kvs))));
      const body = value(0);
      expect(row((c) => c.nullableJsonValue(storableValue(body))), `seed ${seed}, body ${k}`).toBe(row((c) => c.json(anyValueJson(body))));
    }
    expect(row((c) => c.nullableJsonValue(null))).toBe(NULL);
  });
});
