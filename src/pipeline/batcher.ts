import type { OtlpError } from '../errors.js';

/** One request's rows waiting for their batch to commit. */
export interface Pending<R> {
  readonly rows: R;
  /** Items (spans, log records, data points) the rows hold; batch sizes count these. */
  readonly items: number;
  resolve(): void;
  reject(err: OtlpError): void;
}

export interface BatcherOptions<R> {
  readonly maxItems: number;
  readonly flushIntervalMs: number;
  readonly onBatch: (batch: Pending<R>[]) => void;
}

/**
 * Collects whole requests into batches of about `maxItems` items, flushing when full or when the
 * oldest request has waited `flushIntervalMs`. A request is never split across batches, so its rows
 * commit together and a request the database refuses can be isolated and refused alone.
 */
export class Batcher<R> {
  private pending: Pending<R>[] = [];
  private items = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: BatcherOptions<R>) {}

  submit(rows: R, items: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ rows, items, resolve, reject });
      this.items += items;
      if (this.items >= this.options.maxItems) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.options.flushIntervalMs);
    });
  }

  /** Hands whatever is waiting to the writers now. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.items = 0;
    this.options.onBatch(batch);
  }
}
