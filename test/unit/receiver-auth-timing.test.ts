// The bearer-token check's constant-time structure: whatever is presented, every configured token is
// compared, by timingSafeEqual, on digests of one fixed length. Timing itself is not measured (that
// would depend on the machine); the structure that makes it constant is.
import { beforeEach, describe, expect, it, vi } from 'vitest';

/** The lengths of the two buffers of every timingSafeEqual call. */
const compared: [number, number][] = [];

vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  const timingSafeEqual = (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView): boolean => {
    compared.push([a.byteLength, b.byteLength]);
    return actual.timingSafeEqual(a, b);
  };
  return { ...actual, timingSafeEqual };
});

const { bearerAuthenticator } = await import('../../src/receiver/auth.js');

const TOKENS = ['first-token', 'a-much-longer-second-token-0123456789', 's3'];

beforeEach(() => void compared.splice(0));

describe('bearer token comparison', () => {
  it.each([
    ['the first token', 'first-token', true],
    ['the last token', 's3', true],
    ['a wrong token of the same length as one', 'first-tokeX', false],
    ['a wrong token of another length', 'x'.repeat(500), false],
  ])('compares %s against every configured token, on 32-byte digests', (_what, presented, accepted) => {
    const check = bearerAuthenticator(TOKENS);
    expect(check?.(`Bearer ${presented}`) === undefined).toBe(accepted);
    expect(compared).toEqual(TOKENS.map(() => [32, 32]));
  });
});
