// Bearer-token authentication shared by both transports (RFC 6750 §2.1; the Collector's
// bearertokenauth extension): a request carries `Authorization: Bearer <token>` (HTTP header or gRPC
// metadata) and is accepted when the token equals any configured one.
//
// Tokens are secrets: the comparison takes the same time whatever the presented token is, and no token,
// presented or configured, ever reaches a log line or an error message.

import { createHash, timingSafeEqual } from 'node:crypto';
import { OtlpError } from '../errors.js';

/** Checks an `authorization` value; answers undefined when accepted, else the refusal to send. */
export type Authenticate = (authorization: string | undefined) => OtlpError | undefined;

/** Refusals say which part is wrong, never what was sent. */
const MISSING = 'missing credentials: send "Authorization: Bearer <token>"';
const NOT_BEARER = 'unsupported authorization scheme: send "Authorization: Bearer <token>"';
const INVALID = 'invalid bearer token';

/** The check for `tokens`, or undefined when there are none (authentication is off). */
export function bearerAuthenticator(tokens: readonly string[]): Authenticate | undefined {
  if (tokens.length === 0) return undefined;
  // Digests, not the tokens, are compared: timingSafeEqual needs equal lengths, and comparing
  // fixed-length digests keeps a token's length from showing in the time taken.
  const accepted = tokens.map(digest);
  return (authorization) => {
    if (authorization === undefined || authorization.trim() === '') return new OtlpError('unauthenticated', MISSING);
    const token = bearerToken(authorization);
    if (token === undefined) return new OtlpError('unauthenticated', NOT_BEARER);
    const presented = digest(token);
    // Every configured token is compared, so the time does not tell which one (if any) matched.
    let match = false;
    for (const candidate of accepted) match = timingSafeEqual(candidate, presented) || match;
    return match ? undefined : new OtlpError('unauthenticated', INVALID);
  };
}

/**
 * The token of a `Bearer <token>` value. The scheme is case-insensitive (RFC 9110 §11.1). Parsed by hand:
 * a regular expression over a client-controlled header risks quadratic backtracking on long runs of spaces.
 */
export function bearerToken(authorization: string): string | undefined {
  const value = authorization.trim();
  const space = value.indexOf(' ');
  if (space < 0 || value.slice(0, space).toLowerCase() !== 'bearer') return undefined;
  const token = value.slice(space + 1).trimStart();
  return token === '' ? undefined : token;
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/**
 * Why starting with these settings deserves a warning, if it does: tokens sent in plain text beyond
 * the loopback interface can be read by anyone on the path, and then replayed.
 */
export function cleartextTokenWarning(options: { readonly host: string; readonly tls?: unknown; readonly authTokens?: readonly string[] }): string | undefined {
  if ((options.authTokens ?? []).length === 0 || options.tls !== undefined || isLoopback(options.host)) return undefined;
  return `bearer tokens would travel in plain text on ${options.host}: serve TLS (--tls-cert, --tls-key) or bind to loopback`;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
