import { DatabaseError } from 'pg';

export type DbFailure =
  /** The database is unreachable, restarting, overloaded or timed out: the client should retry. */
  | 'retryable'
  /** The database refused the rows themselves: retrying the same rows cannot succeed. */
  | 'data'
  /** Not the database's: a bug of ours (a TypeError while encoding, say). Retrying cannot help either. */
  | 'bug';

/** What JavaScript throws for a program's own mistakes, never for a network or a database. */
const BUG_TYPES = [TypeError, RangeError, ReferenceError, SyntaxError, EvalError];

// SQLSTATE classes (https://www.postgresql.org/docs/current/errcodes-appendix.html).
const RETRYABLE_CODES = new Set(['40001', '40P01', '57014', '57P01', '57P02', '57P03', '55P03', '55006']);
const RETRYABLE_CLASSES = new Set(['08', '53', '58']);

/**
 * Decides whose fault a failed batch is. JavaScript's own error types (TypeError, RangeError …) are
 * bugs: the batch is split like a data error, so the request that trips it is refused alone and
 * permanently (a client told to retry would loop for ever). Other errors without a SQLSTATE (network
 * errors, a terminated connection, a pool timeout) are retryable: the rows never reached a commit, and
 * answering retryable loses nothing. Any other SQLSTATE (22 data exception, 23 integrity, 54 limits,
 * and whatever else PostgreSQL says of the statement) is treated as the data's fault, so the batch
 * is split and only the request that trips it is refused, permanently.
 */
export function classifyDbError(err: unknown): DbFailure {
  if (err instanceof DatabaseError && typeof err.code === 'string') {
    if (RETRYABLE_CODES.has(err.code) || RETRYABLE_CLASSES.has(err.code.slice(0, 2))) return 'retryable';
    return 'data';
  }
  if (BUG_TYPES.some((type) => err instanceof type)) return 'bug';
  return 'retryable';
}
