// A test client that behaves as the OTLP specification asks of one: it retries a request answered
// retryable (HTTP 429/502/503/504, gRPC UNAVAILABLE and friends) after the server's hint, and never
// retries a permanent failure. Waits are capped so tests stay short.
import { randomBytes } from 'node:crypto';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { grpcExport, httpPost, jsonToProtobuf } from './otlp.js';
import { decodeWire } from './wire.js';
import { PATIENCE_MS } from './poll.js';

export type Transport = 'http/json' | 'http/protobuf' | 'grpc';

export interface Attempt {
  /** HTTP status, or gRPC code (0 is OK). */
  readonly code: number;
  readonly retryable: boolean;
  /** Retry-After seconds, or RetryInfo present (gRPC). */
  readonly hinted: boolean;
  /** The hint itself, decoded: Retry-After in ms, or the RetryInfo delay of grpc-status-details-bin. */
  readonly retryAfterMs?: number;
  readonly body: string;
}

const RETRYABLE_HTTP = new Set([429, 502, 503, 504]);
const RETRYABLE_GRPC = new Set([GrpcStatus.UNAVAILABLE, GrpcStatus.CANCELLED, GrpcStatus.DEADLINE_EXCEEDED, GrpcStatus.ABORTED, GrpcStatus.OUT_OF_RANGE, GrpcStatus.DATA_LOSS]);

/** A request of `spans` spans with fresh random ids; returns it and its span ids (hex). */
export function spanRequest(spans: number, service = 'load', attributeBytes = 32): { body: unknown; spanIds: string[] } {
  const traceId = randomBytes(16).toString('hex');
  const spanIds = Array.from({ length: spans }, () => randomBytes(8).toString('hex'));
  const now = BigInt(Date.now()) * 1_000_000n;
  const value = 'x'.repeat(attributeBytes);
  return {
    spanIds,
    body: {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
          scopeSpans: [
            {
              spans: spanIds.map((spanId, i) => ({
                traceId,
                spanId,
                parentSpanId: i === 0 ? '' : spanIds[0],
                name: `op-${i}`,
                kind: 2,
                startTimeUnixNano: (now + BigInt(i)).toString(),
                endTimeUnixNano: (now + 1_000_000n).toString(),
                attributes: Array.from({ length: 10 }, (_, k) => ({ key: `attr.${k}`, value: { stringValue: value } })),
              })),
            },
          ],
        },
      ],
    },
  };
}

export async function sendOnce(transport: Transport, ports: { grpc: number; http: number }, body: unknown): Promise<Attempt> {
  if (transport === 'grpc') {
    const res = await grpcExport(ports.grpc, 'traces', jsonToProtobuf('traces', body), { 'grpc.max_send_message_length': 64 << 20 });
    const details = res.metadata?.get('grpc-status-details-bin')[0];
    return {
      code: res.code,
      retryable: RETRYABLE_GRPC.has(res.code),
      hinted: details !== undefined,
      ...(details === undefined ? {} : { retryAfterMs: retryInfoMs(details as Buffer) }),
      body: res.details,
    };
  }
  try {
    const proto = transport === 'http/protobuf';
    const res = await httpPost(ports.http, '/v1/traces', proto ? jsonToProtobuf('traces', body) : JSON.stringify(body), {
      'Content-Type': proto ? 'application/x-protobuf' : 'application/json',
    });
    const after = res.headers.get('retry-after');
    return {
      code: res.status,
      retryable: RETRYABLE_HTTP.has(res.status),
      hinted: after !== null,
      ...(after === null ? {} : { retryAfterMs: Number(after) * 1000 }),
      body: res.body.toString(),
    };
  } catch (err) {
    // Connection refused or reset: the server is not there (restarting); a client retries that.
    return { code: -1, retryable: true, hinted: false, body: (err as Error).message };
  }
}

/** The delay of the RetryInfo detail in a google.rpc.Status (undefined: it has none). */
export function retryInfoMs(statusBytes: Uint8Array): number | undefined {
  const details = (decodeWire('Status', statusBytes).details ?? []) as { type_url: string; value: Uint8Array }[];
  const info = details.find((d) => d.type_url === 'type.googleapis.com/google.rpc.RetryInfo');
  if (info === undefined) return undefined;
  const delay = decodeWire('RetryInfo', info.value).retry_delay as { seconds: number; nanos: number } | null;
  return delay === null ? undefined : delay.seconds * 1000 + delay.nanos / 1e6;
}

/**
 * Sends until the request succeeds or fails permanently, waiting between tries as the server
 * hints (capped at `maxWaitMs`), for at most `deadline` (epoch ms). Returns every attempt, and tells
 * `onAttempt` of each as it comes.
 */
export async function sendWithRetry(
  transport: Transport,
  ports: { grpc: number; http: number },
  body: unknown,
  { maxWaitMs = 200, deadline = Date.now() + PATIENCE_MS, onAttempt = (_a: Attempt): void => undefined } = {},
): Promise<Attempt[]> {
  const attempts: Attempt[] = [];
  for (;;) {
    const a = await sendOnce(transport, ports, body);
    attempts.push(a);
    onAttempt(a);
    if (a.code === 0 || a.code === 200 || !a.retryable || Date.now() > deadline) return attempts;
    await new Promise((r) => setTimeout(r, maxWaitMs));
  }
}

export const succeeded = (a: Attempt | undefined): boolean => a !== undefined && (a.code === 0 || a.code === 200);
