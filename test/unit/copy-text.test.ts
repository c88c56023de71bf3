import { describe, expect, it } from 'vitest';
import { bytea, CopyBuffer, nullableBytea, text, timestamptz } from '../../src/write/copy-text.js';

describe('COPY text format', () => {
  it('escapes the four special characters', () => {
    expect(text('a\tb\nc\rd\\e')).toBe('a\\tb\\nc\\rd\\\\e');
    expect(text('plain')).toBe('plain');
  });

  it('writes bytea as escaped hex and NULL as \\N', () => {
    expect(bytea(new Uint8Array([0xab, 0x01]))).toBe('\\\\xab01');
    expect(nullableBytea(null)).toBe('\\N');
  });

  it('renders nanoseconds as a microsecond timestamptz', () => {
    expect(timestamptz(1544712660300000000n)).toBe('2018-12-13T14:51:00.300000Z');
    expect(timestamptz(1544712660123456789n)).toBe('2018-12-13T14:51:00.123456Z');
    expect(timestamptz(0n)).toBe('1970-01-01T00:00:00.000000Z');
    expect(timestamptz(7258118400000000001n)).toBe('2200-01-01T00:00:00.000000Z');
  });

  it('joins fields with tabs and rows with newlines', () => {
    const copy = new CopyBuffer();
    copy.add(['1', 'a']);
    copy.add(['2', '\\N']);
    expect(copy.rows).toBe(2);
    expect(copy.toBuffer().toString()).toBe('1\ta\n2\t\\N\n');
  });
});
