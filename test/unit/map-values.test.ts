import { describe, expect, it } from 'vitest';
import type { AnyValue } from '../../src/decode/types.js';
import { anyValueJson, attributesJson, doubleJson, plainDouble, storableString } from '../../src/map/values.js';
import { Rng } from '../helpers/random-requests.js';

const s = (value: string): AnyValue => ({ kind: 'string', value });
const i = (value: bigint): AnyValue => ({ kind: 'int', value });
const d = (value: number): AnyValue => ({ kind: 'double', value });

describe('plainDouble', () => {
  it.each([
    [1, '1.0'],
    [-2, '-2.0'],
    [0.25, '0.25'],
    [1e21, '1000000000000000000000.0'],
    [1.5e-7, '0.00000015'],
    [-1.2345e25, '-12345000000000000000000000.0'],
    [Number.MAX_VALUE, `179769313486231570${'0'.repeat(291)}.0`],
    [5e-324, `0.${'0'.repeat(323)}5`],
    [-0, '-0.0'],
  ])('%s → %s', (n, text) => {
    expect(plainDouble(n)).toBe(text);
    expect(Number(text)).toBe(n);
  });

  it('round-trips random doubles exactly', () => {
    // Seeded, so a failure names the value that caused it and reruns the same.
    const seed = Number(process.env.TEST_SEED ?? 20261201);
    const rng = new Rng(seed);
    for (let k = 0; k < 2000; k++) {
      const n = (rng.next() - 0.5) * 10 ** Math.floor(rng.next() * 40 - 20);
      expect(Number(plainDouble(n)), `seed ${seed}, value ${n}`).toBe(n);
      expect(plainDouble(n)).toMatch(/^-?\d+\.\d+$/);
    }
  });
});

describe('anyValueJson', () => {
  it('keeps ints exact and doubles told apart', () => {
    expect(anyValueJson(i(9007199254740993n))).toBe('9007199254740993');
    expect(anyValueJson(i(-9223372036854775808n))).toBe('-9223372036854775808');
    expect(anyValueJson(d(3))).toBe('3.0');
  });

  it('tags what JSON cannot hold', () => {
    expect(doubleJson(NaN)).toBe('{"$double":"NaN"}');
    expect(doubleJson(Infinity)).toBe('{"$double":"Infinity"}');
    expect(doubleJson(-Infinity)).toBe('{"$double":"-Infinity"}');
    expect(doubleJson(-0)).toBe('{"$double":"-0"}');
    expect(anyValueJson({ kind: 'bytes', value: new Uint8Array([0, 1, 255]) })).toBe('{"$bytes":"AAH/"}');
    expect(anyValueJson({ kind: 'empty' })).toBe('null');
  });

  it('writes arrays and nested kvlists, escaping a kvlist that looks like a tag', () => {
    const nested: AnyValue = {
      kind: 'kvlist',
      value: [
        { key: 'a', value: { kind: 'array', value: [s('x'), i(1n), d(1.5), { kind: 'bool', value: false }] } },
        { key: 'tagged', value: { kind: 'kvlist', value: [{ key: '$bytes', value: s('not bytes') }] } },
      ],
    };
    expect(JSON.parse(anyValueJson(nested))).toEqual({ a: ['x', 1, 1.5, false], tagged: { $kvlist: { $bytes: 'not bytes' } } });
  });

  it('makes strings storable in PostgreSQL', () => {
    expect(storableString('a\0b')).toBe('a\uFFFDb');
    expect(storableString('x\uD800y')).toBe('x\uFFFDy');
    expect(attributesJson([{ key: 'k\0', value: s('v\uDC00') }])).toBe('{"k\uFFFD":"v\uFFFD"}');
  });
});
