import { describe, expect, it } from 'vitest';
import { decodeRequest } from '../../src/decode/index.js';
import { decodeProtobufRequest } from '../../src/decode/protobuf.js';
import type { ItemAttributes, Span } from '../../src/decode/types.js';
import { WireAttributes } from '../../src/decode/wire-attributes.js';
import { buildTemplates } from '../../src/loadgen/build-requests.js';
import { defaultLoadgenOptions } from '../../src/loadgen/options.js';
import { attributesJson, storableAttributes } from '../../src/map/values.js';
import { BinaryCopyBuffer } from '../../src/write/copy-binary.js';
import { invalid, ld, only, tag, text, varint64 } from '../helpers/decode-fixtures.js';
import { Rng } from '../helpers/random-requests.js';

// The attributes of spans, log records and data points, only copied into jsonb, stay protobuf bytes
// when every one is plain (src/decode/wire-attributes.ts); what is stored must not change for it.

const double = (x: number): number[] => {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(x);
  return [...b];
};
/** AnyValue fields as the SDKs write them. */
const str = (s: string): number[] => text(1, s);
const bool = (b: boolean): number[] => [...tag(2, 0), b ? 1 : 0];
const int = (n: bigint): number[] => [...tag(3, 0), ...varint64(n)];
const dbl = (x: number): number[] => [...tag(4, 1), ...double(x)];
/** KeyValue{key, value} as the span's attributes field (9). */
const attribute = (key: number[], value: number[]): number[] => ld(9, [...ld(1, key), ...ld(2, value)]);
const utf8 = (s: string): number[] => [...Buffer.from(s)];

const request = (spanFields: number[]): Uint8Array =>
  Uint8Array.from(ld(1, ld(2, ld(2, [...ld(1, Array(16).fill(1)), ...ld(2, Array(8).fill(2)), ...spanFields]))));
const spanOf = (body: Uint8Array, wire: boolean): Span =>
  only(only(only(decodeProtobufRequest('traces', body, undefined, wire).resourceSpans).scopeSpans).spans);

/** The jsonb field c.attributes() writes, as hex. */
function field(attributes: ItemAttributes): string {
  const c = new BinaryCopyBuffer(8); // tiny: writing grows it
  c.attributes(attributes);
  c.endRow();
  return c.toBuffer().toString('hex');
}

/** Decoded both ways: the same jsonb bytes, and the JSON text that attributesJson() makes. */
function expectSameStored(body: Uint8Array): ItemAttributes {
  const wire = spanOf(body, true).attributes;
  const decoded = spanOf(body, false).attributes;
  if (decoded instanceof WireAttributes) throw new Error('decoded without wire, yet kept as bytes');
  // As map/ hands them to write/: storable (attributes kept as bytes are already).
  const stored = field(storableAttributes(wire));
  expect(stored).toBe(field(storableAttributes(decoded)));
  const json = Buffer.from(stored, 'hex').subarray(2 + 4 + 1).toString('utf8');
  expect(json).toBe(attributesJson(decoded));
  return wire;
}

describe('attributes kept as protobuf bytes', () => {
  it('are what the load generator’s spans, log records and data points carry', async () => {
    const templates = await buildTemplates(['traces', 'logs', 'metrics'], { ...defaultLoadgenOptions(), services: 1 });
    const kept = { traces: 0, logs: 0, metrics: 0 };
    for (const t of templates) {
      const items: { readonly attributes: ItemAttributes }[] =
        t.signal === 'traces'
          ? decodeRequest('traces', t.bytes, 'protobuf').resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans))
          : t.signal === 'logs'
            ? decodeRequest('logs', t.bytes, 'protobuf').resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords))
            : decodeRequest('metrics', t.bytes, 'protobuf').resourceMetrics.flatMap((rm) =>
                rm.scopeMetrics.flatMap((sm) =>
                  sm.metrics.flatMap((m): readonly { readonly attributes: ItemAttributes }[] => ('dataPoints' in m.data ? m.data.dataPoints : [])),
                ),
              );
      for (const item of items) {
        expect(item.attributes).toBeInstanceOf(WireAttributes);
        kept[t.signal]++;
      }
    }
    expect(kept.traces).toBeGreaterThanOrEqual(100);
    expect(kept.logs).toBeGreaterThanOrEqual(100);
    expect(kept.metrics).toBeGreaterThanOrEqual(100);
  });

  it('are written as the decoded attributes are, byte for byte: escapes, UTF-8, every int and double', () => {
    const ints = [0n, 1n, 127n, 128n, 2n ** 31n, 2n ** 49n - 1n, 2n ** 49n, 2n ** 53n + 1n, 2n ** 63n - 1n, -1n, -(2n ** 63n), -12345n];
    const doubles = [0, -0, 1.5, -2.25e-7, 1e21, 1e-7, 5e-324, Number.MAX_VALUE, NaN, Infinity, -Infinity, 0.1 + 0.2];
    const values = [
      ...ints.map(int),
      ...doubles.map(dbl),
      bool(true),
      bool(false),
      str(''),
      str('plain'),
      str('q"uote \\ back'),
      str('\u0001\u0008\t\n\u000b\u000c\r\u001f\u007f'),
      str('é ☃ 😀 \u2028'),
      str('x'.repeat(3000)),
    ];
    const wire = expectSameStored(request(values.map((v, i) => attribute(utf8(`k${i}"\\\n`), v)).flat()));
    expect(wire).toBeInstanceOf(WireAttributes);
    expect((wire as WireAttributes).length).toBe(values.length);
    expect(expectSameStored(request([]))).toEqual([]);
    expect(expectSameStored(request(attribute([], str(''))))).toBeInstanceOf(WireAttributes);
  });

  it('agree with decoding on random plain attributes, and a NUL anywhere decodes them', () => {
    const seed = Number(process.env.TEST_SEED ?? 20261203);
    const rng = new Rng(seed);
    let nul = false;
    const randomText = (): string => {
      let out = '';
      const n = Math.floor(rng.next() * 40);
      for (let k = 0; k < n; k++) {
        const r = rng.next();
        out += String.fromCodePoint(r < 0.7 ? 0x20 + Math.floor(rng.next() * 95) : r < 0.8 ? Math.floor(rng.next() * 0x20) : Math.floor(rng.next() * 0x10ffff));
      }
      nul ||= out.includes('\0');
      return out;
    };
    const randomInt = (): bigint => {
      const bits = BigInt(Math.floor(rng.next() * 2 ** 32)) * 2n ** 32n + BigInt(Math.floor(rng.next() * 2 ** 32));
      return BigInt.asIntN(64, bits >> BigInt(Math.floor(rng.next() * 64)));
    };
    const randomValue = (): number[] => {
      const r = rng.next();
      if (r < 0.5) return str(randomText());
      if (r < 0.7) return int(randomInt());
      if (r < 0.9) return dbl((rng.next() - 0.5) * 10 ** Math.floor(rng.next() * 60 - 30));
      return bool(rng.next() < 0.5);
    };
    for (let k = 0; k < 300; k++) {
      nul = false;
      const fields = Array.from({ length: 1 + Math.floor(rng.next() * 10) }, () => attribute(utf8(randomText()), randomValue())).flat();
      const wire = expectSameStored(request(fields));
      expect(wire instanceof WireAttributes, `seed ${seed}, case ${k}`).toBe(!nul);
    }
  });

  it('are decoded as before when anything is not plain', () => {
    const event = ld(11, text(2, 'e'));
    const notPlain: [string, number[]][] = [
      ['value before key', ld(9, [...ld(2, str('v')), ...ld(1, utf8('k'))])],
      ['key twice', ld(9, [...ld(1, utf8('k')), ...ld(1, utf8('j')), ...ld(2, str('v'))])],
      ['value twice', ld(9, [...ld(1, utf8('k')), ...ld(2, str('v')), ...ld(2, str('w'))])],
      ['no value', ld(9, ld(1, utf8('k')))],
      ['an empty value', ld(9, [...ld(1, utf8('k')), ...ld(2, [])])],
      ['two members of the oneof', ld(9, [...ld(1, utf8('k')), ...ld(2, [...str('v'), ...bool(true)])])],
      ['bool 2', ld(9, [...ld(1, utf8('k')), ...ld(2, [...tag(2, 0), 2])])],
      ['an overlong int', ld(9, [...ld(1, utf8('k')), ...ld(2, [...tag(3, 0), 0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f])])],
      ['bytes', ld(9, [...ld(1, utf8('k')), ...ld(2, ld(7, [0, 1, 2]))])],
      ['an array', ld(9, [...ld(1, utf8('k')), ...ld(2, ld(5, ld(1, str('v'))))])],
      ['a kvlist', ld(9, [...ld(1, utf8('k')), ...ld(2, ld(6, ld(1, [...ld(1, utf8('$bytes')), ...ld(2, str('v'))])))])],
      ['an unknown field', ld(9, [...ld(1, utf8('k')), ...ld(2, str('v')), ...tag(15, 0), 1])],
      ['a NUL in a key', attribute(utf8('k\0'), str('v'))],
      ['a NUL in a value', attribute(utf8('k'), str('v\0'))],
      ['an event between attributes', [...attribute(utf8('a'), str('v')), ...event, ...attribute(utf8('b'), str('w'))]],
    ];
    for (const [what, fields] of notPlain) {
      const body = request([...attribute(utf8('first'), int(1n)), ...fields, ...attribute(utf8('last'), dbl(2.5))]);
      const wire = expectSameStored(body);
      expect(wire, what).toBeInstanceOf(Array);
      expect(wire, what).toEqual(spanOf(body, false).attributes);
    }
  });

  it('are refused where decoding refuses them, with the same error', () => {
    for (const bad of [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0x61, 0x80]]) {
      for (const fields of [attribute(bad, str('v')), attribute(utf8('k'), ld(1, bad))]) {
        const body = request([...attribute(utf8('ok'), str('v')), ...fields]);
        expect(invalid(() => spanOf(body, true)).message).toBe(invalid(() => spanOf(body, false)).message);
      }
    }
    // A length that runs past its KeyValue.
    const overrun = request(ld(9, [...ld(1, utf8('k')), ...tag(2, 2), 9, ...str('v')]));
    expect(invalid(() => spanOf(overrun, true)).message).toBe(invalid(() => spanOf(overrun, false)).message);
  });
});
