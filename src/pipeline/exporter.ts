import { createHash } from 'node:crypto';
import type { Signal, SignalRequests } from '../decode/types.js';
import { OtlpError, outcomeOf, toOtlpError } from '../errors.js';
import type { Mapped } from '../map/types.js';
import type { Telemetry } from '../telemetry/metrics.js';
import { Admission } from './admission.js';
import { Batcher } from './batcher.js';
import type { ExportResult, Exporter } from './types.js';
import type { BatchWrite, WriterPool } from './writer-pool.js';

/** How one signal goes from a decoded request to committed rows. */
export interface SignalStage<S extends Signal, R> {
  readonly map: (request: SignalRequests[S]) => Mapped<R>;
  readonly write: BatchWrite<R>;
  readonly batchRows: number;
}

export type SignalStages = { readonly [S in Signal]?: SignalStage<S, unknown> };

/**
 * Erases a stage's row type so stages of different signals fit one table. Sound because the
 * pipeline only ever hands `write` what the same stage's `map` produced.
 */
export function signalStage<S extends Signal, R>(stage: SignalStage<S, R>): SignalStage<S, unknown> {
  return stage as unknown as SignalStage<S, unknown>;
}

export interface PipelineOptions {
  readonly flushIntervalMs: number;
  readonly maxInflightBytes: number;
  readonly maxInflightRequests: number;
  /** A request not committed by then is answered retryable (its rows may still commit). */
  readonly requestTimeoutMs: number;
  /** Record request digests so a retried request is not stored twice. */
  readonly dedupe: boolean;
  readonly retryAfterMs: number;
}

/**
 * The per-signal export behind both transports: admission → map → batch → writer pool, and the
 * answer once the batch holding the request has committed.
 */
export class Pipeline implements Exporter {
  readonly admission: Admission;
  private readonly batchers = new Map<Signal, Batcher<unknown>>();
  private closing = false;

  constructor(
    private readonly stages: SignalStages,
    private readonly writers: WriterPool,
    private readonly options: PipelineOptions,
    private readonly telemetry: Telemetry,
  ) {
    this.admission = new Admission(options.maxInflightBytes, options.maxInflightRequests, options.retryAfterMs);
    for (const [signal, stage] of Object.entries(stages) as [Signal, SignalStage<Signal, unknown>][]) {
      this.batchers.set(
        signal,
        new Batcher({
          maxWeight: stage.batchRows,
          flushIntervalMs: options.flushIntervalMs,
          onBatch: (batch) => writers.enqueue(signal, batch, stage.write),
        }),
      );
    }
  }

  async export<S extends Signal>(signal: S, body: Uint8Array, decode: (body: Uint8Array) => SignalRequests[S]): Promise<ExportResult> {
    const stage = this.stages[signal] as SignalStage<S, unknown> | undefined;
    const batcher = this.batchers.get(signal);
    if (!stage || !batcher) throw new OtlpError('not_found', `${signal} are not accepted by this server`);
    if (this.closing) throw new OtlpError('shutting_down', 'otlp-pg is shutting down', this.options.retryAfterMs);
    this.admission.acquire(body.length);

    let mapped: Mapped<unknown>;
    let committed: Promise<void>;
    try {
      mapped = stage.map(decode(body));
      if (mapped.rejected > 0) this.telemetry.itemsRefused(signal, 'partial', mapped.rejected);
      committed =
        mapped.weight === 0
          ? Promise.resolve()
          : batcher.submit({
              rows: mapped.rows,
              weight: mapped.weight,
              items: mapped.accepted,
              bytes: body.length,
              key: this.options.dedupe ? requestKey(signal, body) : null,
            });
    } catch (err) {
      this.admission.release(body.length);
      throw err;
    }
    // The bytes stay charged until the batch settles, even if the answer goes out before.
    const release = (): void => this.admission.release(body.length);
    committed.then(release, release);

    try {
      await this.withDeadline(committed);
    } catch (err) {
      const e = toOtlpError(err);
      this.telemetry.itemsRefused(signal, outcomeOf(e.kind).reason, mapped.accepted);
      throw e;
    }
    this.telemetry.itemsAccepted(signal, mapped.accepted);
    return { rejected: mapped.rejected, message: mapped.message };
  }

  /** Per signal: rows and bytes waiting in its batcher, and its batch size. */
  buffered(): { signal: Signal; rows: number; bytes: number; batchRows: number }[] {
    return [...this.batchers].map(([signal, b]) => ({ signal, ...b.buffered, batchRows: this.stages[signal]?.batchRows ?? 0 }));
  }

  private async withDeadline(committed: Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const ms = this.options.requestTimeoutMs;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const retry = this.options.dedupe ? 'a retry will not be stored twice' : 'a retry may store it twice';
        reject(new OtlpError('unavailable', `not committed within ${ms} ms (it may still commit; ${retry})`, this.options.retryAfterMs));
      }, ms);
    });
    try {
      await Promise.race([committed, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Refuses new requests, hands every waiting request to the writers and waits for them to finish.
   * Whatever is still unwritten after `deadlineMs` is refused as retryable (connections of batches
   * being written are cut, so their transactions roll back). Resolves true when all committed.
   */
  async drain(deadlineMs: number): Promise<boolean> {
    this.closing = true;
    for (const b of this.batchers.values()) b.flush();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), deadlineMs)));
    const done = await Promise.race([this.writers.idle().then(() => true as const), timedOut]);
    clearTimeout(timer);
    if (!done) {
      this.writers.abort(new OtlpError('shutting_down', 'otlp-pg shut down before the request was committed', this.options.retryAfterMs));
      await this.writers.idle();
    }
    return done;
  }
}

/** The digest a retry of the same request shares: signal and body as decoded from the wire. */
function requestKey(signal: Signal, body: Uint8Array): Buffer {
  return createHash('sha256').update(signal).update('\0').update(body).digest();
}
