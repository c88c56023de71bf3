import { describe, expect, it } from 'vitest';
import { CopyBuffer, copyText, timestamptz } from '../../src/write/copy-text.js';

/** The COPY text of one row written by `write`. */
function row(write: (c: CopyBuffer) => void): string {
  const c = new CopyBuffer(8); // tiny, so every test also grows the buffer
  write(c);
  c.endRow();
  return c.toBuffer().toString('utf8');
}

describe('COPY text format', () => {
  it('escapes the four special characters, in short and long, ASCII and non-ASCII text', () => {
    expect(row((c) => c.text('a\tb\nc\rd\\e'))).toBe('a\\tb\\nc\\rd\\\\e\n');
    expect(row((c) => c.text('plain'))).toBe('plain\n');
    expect(row((c) => c.text(''))).toBe('\n');
    expect(row((c) => c.text('héllo\t☃ 😀'))).toBe('héllo\\t☃ 😀\n');
    const long = `${'x'.repeat(100)}\\\t${'ü'.repeat(100)}\n`;
    expect(row((c) => c.text(long))).toBe(`${'x'.repeat(100)}\\\\\\t${'ü'.repeat(100)}\\n\n`);
  });

  it('doubles only the backslashes of JSON text', () => {
    const json = JSON.stringify({ k: 'tab\there "q" \\ ü\n' });
    expect(row((c) => c.json(json))).toBe(`${json.replaceAll('\\', '\\\\')}\n`);
    expect(row((c) => c.nullableJson(null))).toBe('\\N\n');
  });

  it('writes bytea as escaped hex, numbers in full, NULL as \\N', () => {
    expect(row((c) => c.bytea(new Uint8Array([0xab, 0x01, 0x00, 0xff])))).toBe('\\\\xab0100ff\n');
    expect(row((c) => c.bytea(new Uint8Array(0)))).toBe('\\\\x\n');
    expect(row((c) => c.nullableBytea(null))).toBe('\\N\n');
    expect(row((c) => c.int8(18446744073709551615n))).toBe('18446744073709551615\n');
    expect(row((c) => c.int4(-42))).toBe('-42\n');
    expect(row((c) => c.nullableInt4(null))).toBe('\\N\n');
    expect(row((c) => c.nullableInt8(null))).toBe('\\N\n');
    expect(row((c) => c.float8(-0))).toBe('-0\n');
    expect(row((c) => c.float8(Number.NaN))).toBe('NaN\n');
    expect(row((c) => c.float8(-Infinity))).toBe('-Infinity\n');
    expect(row((c) => c.float8(1e-300))).toBe('1e-300\n');
    expect(row((c) => c.int8Array([1n, -2n, 9223372036854775807n]))).toBe('{1,-2,9223372036854775807}\n');
    expect(row((c) => c.float8Array([2.5, -0, Number.NaN, -Infinity]))).toBe('{2.5,-0,NaN,-Infinity}\n');
    expect(row((c) => c.int8Array([]))).toBe('{}\n');
    expect(row((c) => c.float8Array(null))).toBe('\\N\n');
  });

  it('renders nanoseconds as a microsecond timestamptz', () => {
    const cases: [bigint, string][] = [
      [1544712660300000000n, '2018-12-13T14:51:00.300000Z'],
      [1544712660123456789n, '2018-12-13T14:51:00.123456Z'],
      [1544712660999999999n, '2018-12-13T14:51:00.999999Z'],
      [1544712661000000000n, '2018-12-13T14:51:01.000000Z'],
      [0n, '1970-01-01T00:00:00.000000Z'],
      [7258118400000000001n, '2200-01-01T00:00:00.000000Z'],
      // Past 2^53 µs (year 2255), the slow path.
      [9223372036854775807n, '2262-04-11T23:47:16.854775Z'],
      [-1n, '1969-12-31T23:59:59.999999Z'],
    ];
    for (const [ns, text] of cases) {
      expect(timestamptz(ns)).toBe(text);
      expect(row((c) => c.timestamptz(ns))).toBe(`${text}\n`);
    }
    // The second is cached between rows: a different time in the same and in the next second.
    const c = new CopyBuffer();
    for (const ns of [1544712660300000000n, 1544712660000000001n, 1544712661500000000n]) {
      c.timestamptz(ns);
      c.endRow();
    }
    expect(c.toBuffer().toString()).toBe('2018-12-13T14:51:00.300000Z\n2018-12-13T14:51:00.000000Z\n2018-12-13T14:51:01.500000Z\n');
  });

  it('joins fields with tabs and rows with newlines, and counts rows', () => {
    const copy = new CopyBuffer(4);
    copy.int4(1);
    copy.text('a');
    copy.endRow();
    copy.int4(2);
    copy.nullableText(null);
    copy.endRow();
    expect(copy.rows).toBe(2);
    expect(copy.toBuffer().toString()).toBe('1\ta\n2\t\\N\n');
  });

  it('hands out each payload as its own copy, also after one larger than the scratch buffer', () => {
    const first = copyText((c) => {
      c.text('first');
      c.endRow();
    });
    const big = copyText((c) => {
      for (let i = 0; i < 5000; i++) {
        c.text('x'.repeat(300));
        c.endRow();
      }
    });
    const third = copyText((c) => {
      c.text('third');
      c.endRow();
    });
    expect(first.toString()).toBe('first\n');
    expect(big.length).toBe(5000 * 301);
    expect(third.toString()).toBe('third\n');
  });
});
