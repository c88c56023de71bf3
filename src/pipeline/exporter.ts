import type { Signal, SignalRequests } from '../decode/types.js';
import { OtlpError, unavailable } from '../errors.js';
import type { Mapped } from '../map/types.js';
import { Admission } from './admission.js';
import { Batcher } from './batcher.js';
import type { ExportResult, Exporter } from './types.js';
import type { BatchWrite, WriterPool } from './writer-pool.js';

/** How one signal goes from a decoded request to committed rows. */
export interface SignalStage<S extends Signal, R> {
  readonly map: (request: SignalRequests[S]) => Mapped<R>;
  readonly write: BatchWrite<R>;
  readonly batchItems: number;
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
  readonly retryAfterMs: number;
}

/**
 * The per-signal export behind both transports: admission → map → batch → writer pool, and the
 * answer once the batch holding the request has committed.
 */
export class Pipeline implements Exporter {
  private readonly admission: Admission;
  private readonly batchers = new Map<Signal, Batcher<unknown>>();
  private closing = false;

  constructor(
    private readonly stages: SignalStages,
    private readonly writers: WriterPool,
    private readonly options: PipelineOptions,
  ) {
    this.admission = new Admission(options.maxInflightBytes, options.retryAfterMs);
    for (const [signal, stage] of Object.entries(stages) as [Signal, SignalStage<Signal, unknown>][]) {
      this.batchers.set(
        signal,
        new Batcher({
          maxItems: stage.batchItems,
          flushIntervalMs: options.flushIntervalMs,
          onBatch: (batch) => writers.enqueue(batch, stage.write),
        }),
      );
    }
  }

  async export<S extends Signal>(signal: S, request: SignalRequests[S], bytes: number): Promise<ExportResult> {
    const stage = this.stages[signal] as SignalStage<S, unknown> | undefined;
    const batcher = this.batchers.get(signal);
    if (!stage || !batcher) throw new OtlpError('not_found', `${signal} are not accepted by this server`);
    if (this.closing) throw unavailable('otlp-pg is shutting down', this.options.retryAfterMs);
    this.admission.acquire(bytes);
    try {
      const mapped = stage.map(request);
      if (mapped.weight > 0) await batcher.submit(mapped.rows, mapped.weight);
      return { rejected: mapped.rejected, message: mapped.message };
    } finally {
      this.admission.release(bytes);
    }
  }

  get bytesInFlight(): number {
    return this.admission.bytesInFlight;
  }

  /**
   * Refuses new requests, hands every waiting request to the writers and waits for them to finish.
   * Requests still unanswered after `deadlineMs` are answered by the caller closing the database
   * pool, which fails their transactions: retryable, so the client sends them again elsewhere.
   */
  async drain(deadlineMs: number): Promise<boolean> {
    this.closing = true;
    for (const b of this.batchers.values()) b.flush();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), deadlineMs)));
    const done = await Promise.race([this.writers.idle().then(() => true as const), timedOut]);
    clearTimeout(timer);
    return done;
  }
}
