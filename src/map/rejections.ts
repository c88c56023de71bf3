/**
 * Counts refused items by reason and renders the partial-success message the client sees,
 * e.g. "rejected 3 of 10 spans: trace_id must be 16 bytes, not all zero (2); start_time_unix_nano beyond 2262-04-11 (1)".
 */
export class Rejections {
  private readonly reasons = new Map<string, number>();
  private count = 0;

  add(reason: string): void {
    this.count++;
    this.reasons.set(reason, (this.reasons.get(reason) ?? 0) + 1);
  }

  get total(): number {
    return this.count;
  }

  /**
   * The partial-success message: what was refused and why, and (a warning the specification allows
   * with nothing refused) how many strings were stored altered.
   */
  message(of: number, items: string, replacedStrings = 0): string {
    const parts: string[] = [];
    if (this.count > 0) {
      const reasons = [...this.reasons].map(([reason, n]) => `${reason} (${n})`);
      parts.push(`rejected ${this.count} of ${of} ${items}: ${reasons.join('; ')}`);
    }
    if (replacedStrings > 0) {
      parts.push(
        `${replacedStrings} string(s) held U+0000 or unpaired UTF-16 surrogates, which PostgreSQL cannot store; ` +
          'they were stored with U+FFFD in their place',
      );
    }
    return parts.join('. ');
  }
}

const INT64_MAX = (1n << 63n) - 1n;

/**
 * Whether a 64-bit value fits a bigint column. The one limit of the schema on OTLP's numbers
 * (README "Schema"): a uint64 above 2^63−1 — a fixed64 time past 2262-04-11, a count — stored in a
 * bigint column cannot be. uint32 counts are bigint columns, int32/sint32 integer ones, and the
 * values nested in jsonb (event and exemplar times, int64 attributes) are kept as written.
 */
export function fitsInt64(n: bigint): boolean {
  return n <= INT64_MAX && n >= -INT64_MAX - 1n;
}

/** A trace or span id: exactly `length` bytes, not all zero (W3C Trace Context). */
export function isValidId(id: Uint8Array, length: number): boolean {
  if (id.length !== length) return false;
  for (const b of id) if (b !== 0) return true;
  return false;
}

export const TIME_RANGE = 'timestamps must be before 2262-04-11';
