import { OtlpError } from '../errors.js';

/**
 * Bounds the decoded bytes held between receipt and commit: the memory a burst can pin is capped
 * by configuration, and a request over the bound is refused as retryable at once rather than queued.
 * (The Collector's memory_limiter and exporterhelper queue do the same: refuse, never grow.)
 */
export class Admission {
  private inFlight = 0;
  private requests = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly retryAfterMs: number,
  ) {}

  /** Takes `bytes` of the budget, or throws a retryable `overloaded` error. */
  acquire(bytes: number): void {
    // A single request larger than the whole budget is admitted when nothing else is in flight,
    // or it could never be stored (the request size limit is checked before this).
    if (this.inFlight + bytes > this.maxBytes && this.inFlight > 0) {
      throw new OtlpError('overloaded', 'otlp-pg is at its in-flight limit; retry later', this.retryAfterMs);
    }
    this.inFlight += bytes;
    this.requests++;
  }

  release(bytes: number): void {
    this.inFlight -= bytes;
    this.requests--;
  }

  get bytesInFlight(): number {
    return this.inFlight;
  }

  get requestsInFlight(): number {
    return this.requests;
  }
}
