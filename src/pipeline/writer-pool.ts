import type pg from 'pg';
import type { Logger } from 'pino';
import type { Signal } from '../decode/types.js';
import { OtlpError, outcomeOf, unavailable } from '../errors.js';
import type { Telemetry } from '../telemetry/metrics.js';
import { classifyDbError } from '../write/db-errors.js';
import { claimRequestKeys } from '../write/request-keys.js';
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
  readonly telemetry: Telemetry;
  /**
   * Each committed batch: the request bytes it held, the seconds at least one writer was busy since
   * the previous batch, and whether batches were waiting for a writer (then their ratio is what the
   * pool can commit per second, however many writers share the machine).
   */
  readonly onCommitted?: (bytes: number, busySeconds: number, saturated: boolean) => void;
}

/** What the writers need of a connection pool: `pg.Pool` is one; a unit test brings its own. */
export type Connections = Pick<pg.Pool, 'connect'>;

interface Task {
  run(): Promise<void>;
  abort(err: OtlpError): void;
}

/**
 * At most `concurrency` batches are written at once, each in one transaction on its own
 * connection; every request of a batch is answered when that transaction commits or fails.
 */
export class WriterPool {
  private readonly queue: Task[] = [];
  private readonly writing = new Set<pg.PoolClient>();
  private active = 0;
  /** Since when at least one writer has been busy (undefined: none is), and busy time not yet reported. */
  private busySince: bigint | undefined;
  private busyNs = 0n;
  private idleWaiters: (() => void)[] = [];
  /** Set by abort(): the answer for the batches whose connections it cut. */
  private aborted: OtlpError | undefined;

  constructor(
    private readonly pool: Connections,
    private readonly options: WriterPoolOptions,
  ) {}

  enqueue<R>(signal: Signal, batch: Pending<R>[], write: BatchWrite<R>): void {
    this.queue.push({
      run: () => {
        // Requests already answered (deadline passed) leave here, before anything is written.
        const claimed = batch.filter((p) => p.claim());
        return claimed.length === 0 ? Promise.resolve() : this.writeOrIsolate(signal, claimed, write);
      },
      abort: (err) => this.fail(signal, batch, err),
    });
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

  /**
   * Refuses every queued batch with `err` and cuts the connections of those being written, whose
   * transactions then roll back and are answered retryable. For a shutdown that ran out of time.
   */
  abort(err: OtlpError): void {
    this.aborted = err;
    for (const task of this.queue.splice(0)) task.abort(err);
    for (const client of this.writing) void client.end().catch(() => undefined);
  }

  private next(): void {
    while (this.active < this.options.concurrency && this.queue.length > 0) {
      const task = this.queue.shift() as Task;
      this.busySince ??= process.hrtime.bigint();
      this.active++;
      void task.run().finally(() => {
        this.active--;
        if (this.active === 0) this.accrueBusy();
        this.next();
        if (this.busy === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
      });
    }
  }

  /** Adds the busy time up to now; the clock keeps running while a writer is still busy. */
  private accrueBusy(): void {
    if (this.busySince === undefined) return;
    const now = process.hrtime.bigint();
    this.busyNs += now - this.busySince;
    this.busySince = this.active > 0 ? now : undefined;
  }

  /** Busy time not yet reported, and the count restarts. */
  private takeBusyNs(): bigint {
    this.accrueBusy();
    const ns = this.busyNs;
    this.busyNs = 0n;
    return ns;
  }

  private fail<R>(signal: Signal, batch: readonly Pending<R>[], err: OtlpError): void {
    this.options.telemetry.itemsSendFailed(signal, outcomeOf(err.kind).reason, batch.reduce((n, p) => n + p.items, 0));
    for (const p of batch) p.reject(err);
  }

  /**
   * Writes the batch; when PostgreSQL refuses its data, splits it in halves until the request at
   * fault is alone, refuses that one permanently and commits every other.
   */
  private async writeOrIsolate<R>(signal: Signal, batch: Pending<R>[], write: BatchWrite<R>): Promise<void> {
    const { logger, telemetry } = this.options;
    const started = process.hrtime.bigint();
    try {
      const fresh = await this.transaction(async (client) => {
        // Requests already committed once (a retry whose answer was lost) are acknowledged, not written again.
        const claimed = await claimRequestKeys(client, batch.map((p) => p.key));
        const toWrite = batch.filter((_, i) => claimed[i]);
        const afterCommit = toWrite.length > 0 ? await write(client, toWrite.map((p) => p.rows)) : undefined;
        return { toWrite, afterCommit };
      });
      fresh.afterCommit?.();
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.options.onCommitted?.(batch.reduce((n, p) => n + p.bytes, 0), Number(this.takeBusyNs()) / 1e9, this.queue.length > 0);
      telemetry.batchWritten(signal, fresh.toWrite.reduce((n, p) => n + p.weight, 0), seconds);
      telemetry.itemsSent(signal, fresh.toWrite.reduce((n, p) => n + p.items, 0));
      for (let i = batch.length - fresh.toWrite.length; i > 0; i--) telemetry.duplicateSkipped(signal);
      for (const p of batch) p.resolve();
    } catch (err) {
      const message = (err as Error).message;
      const failure = classifyDbError(err);
      if (this.aborted !== undefined) {
        // Its connection was cut on purpose: say why, rather than what the cut looked like.
        this.fail(signal, batch, this.aborted);
      } else if (failure === 'retryable') {
        logger.warn({ err: message, signal, requests: batch.length }, 'batch failed, answering retryable');
        this.fail(signal, batch, unavailable(`database unavailable: ${message}`, this.options.retryAfterMs, err));
      } else if (batch.length === 1 && failure === 'bug') {
        logger.error({ err, signal }, 'request failed by a bug in otlp-pg');
        this.fail(signal, batch, new OtlpError('internal', `internal error while writing the request: ${message}`, undefined, { cause: err }));
      } else if (batch.length === 1) {
        logger.warn({ err: message, signal }, 'request refused by the database');
        this.fail(signal, batch, new OtlpError('data_rejected', `PostgreSQL refused the request's rows: ${message}`, undefined, { cause: err }));
      } else {
        telemetry.batchSplit(signal);
        const half = Math.ceil(batch.length / 2);
        await this.writeOrIsolate(signal, batch.slice(0, half), write);
        await this.writeOrIsolate(signal, batch.slice(half), write);
      }
    }
  }

  private async transaction<T>(work: (client: pg.ClientBase) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    this.writing.add(client);
    let broken: Error | undefined;
    // A connection that dies between two queries emits 'error' on the client, not on a query;
    // unheard, that event would crash the process. The next query then fails and is classified.
    const onError = (err: Error): void => void (broken = err);
    client.on('error', onError);
    try {
      // One round trip for both: a writer's batches are a handful of statements each, so every
      // round trip saved is time the connection spends writing.
      await client.query(`BEGIN; SET LOCAL statement_timeout = ${Math.floor(this.options.statementTimeoutMs)}`);
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
      client.off('error', onError);
      this.writing.delete(client);
      client.release(broken);
    }
  }
}
