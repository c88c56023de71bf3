import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashId } from '../../src/map/dictionary.js';

/** What the ids have always been (they are stored keys): the first 8 bytes of the content's sha256, signed. */
const reference = (s: string): bigint => createHash('sha256').update(s).digest().readBigInt64BE(0);

describe('hashId', () => {
  it('gives every content the id it always had', () => {
    const contents = ['r\u0001{"service.name":"checkout"}\u00010\u0001', 's\u0001["lib","1"]\u0001{}\u00010\u0001', 'ü 😀', '', 'x'.repeat(100_000)];
    for (const c of contents) expect(hashId(c)).toBe(reference(c));
  });
});
