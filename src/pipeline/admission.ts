import { OtlpError } from '../errors.js';

/**
 * Bounds what requests between receipt and commit may hold: their decoded bytes, and their number.
 * Past either bound a request is refused as retryable at once rather than queued, so the memory a
 * burst can pin is set by configuration (the Collector's memory_limiter and queue do the same:
 * refuse, never grow).
 */
export class Admission {
  private bytes = 0;
  private requests = 0;

  constructor(
    readonly maxBytes: number,
    readonly maxRequests: number,
    private readonly retryAfterMs: number,
  ) {}

  /** Takes `bytes` of the budget, or throws a retryable `overloaded` error. */
  acquire(bytes: number): void {
    // A single request larger than the whole budget is admitted when nothing else is in flight,
    // or it could never be stored (the request size limit is checked before this).
    const overBytes = this.bytes + bytes > this.maxBytes && this.bytes > 0;
    if (overBytes || this.requests >= this.maxRequests) {
      throw new OtlpError('overloaded', 'otlp-pg is at its in-flight limit; retry later', this.retryAfterMs);
    }
    this.bytes += bytes;
    this.requests++;
  }

  release(bytes: number): void {
    this.bytes -= bytes;
    this.requests--;
  }

  get bytesInFlight(): number {
    return this.bytes;
  }

  get requestsInFlight(): number {
    return this.requests;
  }
}
