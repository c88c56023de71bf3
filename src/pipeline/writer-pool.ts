import type pg from 'pg';
import type { Logger } from 'pino';
import { OtlpError, unavailable } from '../errors.js';
import { classifyDbError } from '../write/db-errors.js';
import type { Pending } from './batcher.js';

/**
 * Writes one batch's rows inside the open transaction it is given. What it returns runs only
 * after COMMIT succeeded (e.g. remembering which dictionary ids now exist).
 */
export type BatchWrite<R> = (client: pg.ClientBase, rows: readonly R[]) => Promise<(() => void) | void>;

export interface WriterPoolOptions {
  readonly concurrency: number;
  readonly statementTimeoutMs: number;
  /** Retry hint given to clients when the database is unavailable. */
  readonly retryAfterMs: number;
  readonly logger: Logger;
}

interface Task {
  run(): Promise<void>;
}

/**
 * At most `concurrency` batches are written at once, each in one transaction on its own
 * connection; every request of a batch is answered when that transaction commits or fails.
 */
export class WriterPool {
  private readonly queue: Task[] = [];
  private active = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly pool: pg.Pool,
    private readonly options: WriterPoolOptions,
  ) {}

  enqueue<R>(batch: Pending<R>[], write: BatchWrite<R>): void {
    this.queue.push({ run: () => this.writeOrIsolate(batch, write) });
    this.next();
  }

  /** Batches queued or being written. */
  get busy(): number {
    return this.queue.length + this.active;
  }

  /** Resolves once nothing is queued or being written. */
  idle(): Promise<void> {
    if (this.busy === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private next(): void {
    while (this.active < this.options.concurrency && this.queue.length > 0) {
      const task = this.queue.shift() as Task;
      this.active++;
      void task.run().finally(() => {
        this.active--;
        this.next();
        if (this.busy === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
      });
    }
  }

  /**
   * Writes the batch; when PostgreSQL refuses its data, splits it in halves until the request at
   * fault is alone, refuses that one permanently and commits every other.
   */
  private async writeOrIsolate<R>(batch: Pending<R>[], write: BatchWrite<R>): Promise<void> {
    try {
      const afterCommit = await this.transaction((client) => write(client, batch.map((p) => p.rows)));
      if (afterCommit) afterCommit();
      for (const p of batch) p.resolve();
    } catch (err) {
      if (classifyDbError(err) === 'retryable') {
        this.options.logger.warn({ err: (err as Error).message, requests: batch.length }, 'batch failed, answering retryable');
        const e = unavailable(`database unavailable: ${(err as Error).message}`, this.options.retryAfterMs, err);
        for (const p of batch) p.reject(e);
      } else if (batch.length === 1) {
        const message = `PostgreSQL refused the request's rows: ${(err as Error).message}`;
        this.options.logger.warn({ err: (err as Error).message }, 'request refused by the database');
        (batch[0] as Pending<R>).reject(new OtlpError('data_rejected', message, undefined, { cause: err }));
      } else {
        const half = Math.ceil(batch.length / 2);
        await this.writeOrIsolate(batch.slice(0, half), write);
        await this.writeOrIsolate(batch.slice(half), write);
      }
    }
  }

  private async transaction<T>(work: (client: pg.ClientBase) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      await client.query(`SET LOCAL statement_timeout = ${Math.floor(this.options.statementTimeoutMs)}`);
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch {
        // The connection itself failed: drop it so the pool opens a fresh one.
        broken = err as Error;
      }
      throw err;
    } finally {
      client.release(broken);
    }
  }
}
