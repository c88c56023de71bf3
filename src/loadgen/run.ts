import { performance } from 'node:perf_hooks';
import type { Signal } from '../decode/types.js';
import { buildTemplates } from './build-requests.js';
import type { LoadgenOptions } from './options.js';
import { replay } from './replay.js';
import { RunStats, type SignalStats } from './stats.js';
import { summarize, type LoadSummary } from './summary.js';
import { grpcTransport, httpTransport } from './transport.js';

export interface RunHooks {
  /** Called every `options.progressMs` with the totals so far and the window since the last call. */
  readonly onProgress?: (elapsedSeconds: number, total: SignalStats, window: SignalStats, windowSeconds: number) => void;
  /** Aborting stops sending; the answers to requests in flight are still awaited and counted. */
  readonly stop?: AbortSignal;
}

/**
 * One load run: builds the requests, replays them as `options` says, and returns what happened.
 * Requests are refused or acknowledged (retried only with --backoff); the summary counts both.
 */
export async function runLoad(options: LoadgenOptions, hooks: RunHooks = {}): Promise<LoadSummary> {
  const signals = (Object.entries(options.weights) as [Signal, number][]).filter(([, w]) => w > 0).map(([s]) => s);
  const builtAtMs = Date.now();
  const templates = await buildTemplates(signals, options, builtAtMs);
  const transportOptions = {
    endpoint: options.endpoint,
    headers: options.headers,
    ca: options.ca,
    gzip: options.gzip,
    timeoutMs: options.timeoutMs,
    concurrency: options.concurrency,
    connections: options.connections,
  };
  const transport = options.protocol === 'grpc' ? grpcTransport(transportOptions) : httpTransport(transportOptions);
  const stats = new RunStats();

  const started = performance.now();
  let lastTick = started;
  const timer = hooks.onProgress
    ? setInterval(() => {
        const now = performance.now();
        hooks.onProgress?.((now - started) / 1000, stats.total(), stats.takeWindow(), (now - lastTick) / 1000);
        lastTick = now;
      }, options.progressMs)
    : undefined;
  try {
    const result = await replay({
      templates,
      builtAtMs,
      weights: options.weights,
      concurrency: options.concurrency,
      itemsPerSecond: options.rate,
      durationMs: options.durationMs,
      maxRequests: options.requests,
      transport,
      stats,
      backoff: options.backoff,
      ...(hooks.stop ? { stop: hooks.stop } : {}),
    });
    return summarize(stats, {
      protocol: options.protocol,
      endpoint: options.endpoint,
      gzip: options.gzip,
      concurrency: options.concurrency,
      rate: options.rate,
      behindItems: result.behindItems,
      elapsedSeconds: result.elapsedMs / 1000,
      shape: {
        spansPerRequest: options.spansPerRequest,
        spansPerTrace: options.spansPerTrace,
        logsPerRequest: options.logsPerRequest,
        pointsPerRequest: options.pointsPerRequest,
        attributes: options.attributes,
        attributeSize: options.attributeSize,
        services: options.services,
        errorRatio: options.errorRatio,
        seed: options.seed,
        fanIn: options.fanIn,
      },
    });
  } finally {
    if (timer) clearInterval(timer);
    transport.close();
  }
}
