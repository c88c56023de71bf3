import { createHash } from 'node:crypto';
import type { Signal, SignalRequests } from '../decode/types.js';
import { OtlpError, outcomeOf, toOtlpError, type AdmissionLimit } from '../errors.js';
import type { Mapped } from '../map/types.js';
import type { Telemetry } from '../telemetry/metrics.js';
import { Admission, type Place } from './admission.js';
import { Batcher } from './batcher.js';
import type { Admitted, ExportResult, Exporter } from './types.js';
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
  readonly maxQueueDelayMs: number;
  /** Concurrent writers: the delay bound always leaves one request more than this in flight. */
  readonly writers: number;
  /** A request whose batch has not started writing by then is answered retryable and never written. */
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
    onRefused?: (limit: AdmissionLimit) => void,
  ) {
    this.admission = new Admission({
      maxBytes: options.maxInflightBytes,
      maxRequests: options.maxInflightRequests,
      maxQueueDelayMs: options.maxQueueDelayMs,
      minRequests: options.writers + 1,
      retryAfterMs: options.retryAfterMs,
      ...(onRefused ? { onRefused } : {}),
    });
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

  admit<S extends Signal>(signal: S): Admitted<S> {
    if (!this.stages[signal] || !this.batchers.has(signal)) throw new OtlpError('not_found', `${signal} are not accepted by this server`);
    if (this.closing) throw new OtlpError('shutting_down', 'otlp-pg is shutting down', this.options.retryAfterMs);
    const place = this.admission.enter();
    let used = false;
    return {
      export: (body, decode, options) => {
        if (used) throw new Error('an admitted request is exported once');
        used = true;
        return this.exportAdmitted(signal, place, body, decode, options?.clientTimeoutMs);
      },
      cancel: () => {
        if (!used) place.release();
        used = true;
      },
    };
  }

  private async exportAdmitted<S extends Signal>(
    signal: S,
    place: Place,
    body: Uint8Array,
    decode: (body: Uint8Array) => SignalRequests[S],
    clientTimeoutMs: number | undefined,
  ): Promise<ExportResult> {
    const stage = this.stages[signal] as SignalStage<S, unknown>;
    const batcher = this.batchers.get(signal) as Batcher<unknown>;
    // Until its batch starts writing, a request can still be taken back: past its deadline it is
    // answered retryable and its rows are never written. From then on only its batch's outcome answers it.
    let state: 'queued' | 'writing' | 'expired' = 'queued';
    let mapped: Mapped<unknown>;
    let committed: Promise<void>;
    try {
      // A body that finished arriving after shutdown began would miss the drain's last flush.
      if (this.closing) throw new OtlpError('shutting_down', 'otlp-pg is shutting down', this.options.retryAfterMs);
      place.charge(body.length);
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
              claim: () => {
                if (state === 'expired') {
                  place.release();
                  return false;
                }
                state = 'writing';
                return true;
              },
            });
    } catch (err) {
      place.release();
      throw err;
    }
    // The bytes stay charged while the rows are held: until the batch settles, or a writer drops them.
    committed.then(place.release, place.release);

    try {
      await this.untilCommitted(committed, clientTimeoutMs, () => {
        if (state !== 'queued') return false;
        state = 'expired';
        return true;
      });
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

  /**
   * Waits for the batch; at the request timeout (or the client's own deadline, if sooner), `expire`
   * takes the request back if its batch has not started writing, and it is refused then. Otherwise
   * the answer waits for the outcome: a request answered "retry" is never committed afterwards.
   */
  private async untilCommitted(committed: Promise<void>, clientTimeoutMs: number | undefined, expire: () => boolean): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const server = this.options.requestTimeoutMs;
    const client = clientTimeoutMs !== undefined && clientTimeoutMs < server;
    const ms = client ? Math.max(0, clientTimeoutMs) : server;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        if (!expire()) return;
        const why = client ? `the client's deadline (${Math.round(ms)} ms) passed before it was written` : `not written within ${ms} ms`;
        reject(new OtlpError('timed_out', `${why}; none of its rows were stored`, this.options.retryAfterMs));
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
