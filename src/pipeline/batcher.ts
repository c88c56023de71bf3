import type { OtlpError } from '../errors.js';

/** One request's rows waiting for their batch to commit. */
export interface Pending<R> {
  readonly rows: R;
  /** Rows to write: what batch sizes count. */
  readonly weight: number;
  /** Items (spans, log records, data points) stored, for telemetry. */
  readonly items: number;
  /** Size of the request as received, for telemetry. */
  readonly bytes: number;
  /** Digest of the request as received: a retry of a committed request has the same one. */
  readonly key: Buffer | null;
  /**
   * Called once, when a writer is about to write the request's batch: true hands the request to the
   * writer, to be answered by the batch's outcome; false means it was already answered (its deadline
   * passed) and its rows must not be written.
   */
  claim(): boolean;
  resolve(): void;
  reject(err: OtlpError): void;
}

export type Submission<R> = Omit<Pending<R>, 'resolve' | 'reject'>;

export interface BatcherOptions<R> {
  readonly maxWeight: number;
  readonly flushIntervalMs: number;
  readonly onBatch: (batch: Pending<R>[]) => void;
}

/**
 * Collects whole requests into batches of about `maxWeight` rows, flushing when full or when the
 * oldest request has waited `flushIntervalMs`. A request is never split across batches, so its rows
 * commit together and a request the database refuses can be isolated and refused alone.
 */
export class Batcher<R> {
  private pending: Pending<R>[] = [];
  private weight = 0;
  private bytes = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: BatcherOptions<R>) {}

  submit(submission: Submission<R>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ ...submission, resolve, reject });
      this.weight += submission.weight;
      this.bytes += submission.bytes;
      if (this.weight >= this.options.maxWeight) this.flush();
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
    this.weight = 0;
    this.bytes = 0;
    this.options.onBatch(batch);
  }

  /** Rows and request bytes waiting for the batch to fill. */
  get buffered(): { rows: number; bytes: number } {
    return { rows: this.weight, bytes: this.bytes };
  }
}
