// OTLP/gRPC receiver over a real socket, called by a grpc-js client that moves raw bytes (identity
// serializers), with a fake exporter standing in for the pipeline.

import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Signal, SignalRequests } from '../../src/decode/types.js';
import { OtlpError } from '../../src/errors.js';
import { startGrpcReceiver } from '../../src/receiver/grpc.js';
import type { Exporter } from '../../src/pipeline/types.js';
import type { Receiver } from '../../src/receiver/types.js';
import { FakeExporter } from '../helpers/fake-exporter.js';
import { until } from '../helpers/poll.js';
import { decodeWire, traceRequestProtobuf } from '../helpers/wire.js';

const LIMIT = 64 * 1024;
const TRACES = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
const LOGS = '/opentelemetry.proto.collector.logs.v1.LogsService/Export';
const METRICS = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export';



function firstSpanName(request: SignalRequests[Signal] | undefined): string | undefined {
  return request !== undefined && 'resourceSpans' in request
    ? request.resourceSpans[0]?.scopeSpans[0]?.spans[0]?.name
    : undefined;
}

const identity = (bytes: Buffer): Buffer => bytes;

interface Answer {
  err: grpc.ServiceError | null;
  value: Buffer | undefined;
}

function unary(client: grpc.Client, path: string, body: Buffer): Promise<Answer> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(path, identity, identity, body, (err, value) => resolve({ err, value }));
  });
}

const exporter = new FakeExporter();
let receiver: Receiver;
let client: grpc.Client;

beforeAll(async () => {
  receiver = await startGrpcReceiver({
    host: '127.0.0.1',
    port: 0,
    maxRequestBytes: LIMIT,
    exporter,
    logger: pino({ level: 'silent' }),
  });
  client = new grpc.Client(`127.0.0.1:${receiver.port}`, grpc.credentials.createInsecure());
});

afterAll(async () => {
  client.close();
  await receiver.shutdown(1000);
});

beforeEach(() => {
  exporter.calls = [];
  exporter.outcome = { rejected: 0, message: '' };
  exporter.gate = undefined;
  exporter.refusal = undefined;
});

describe('gRPC receiver: export', () => {
  it('binds a free port when asked for port 0', () => {
    expect(receiver.port).toBeGreaterThan(0);
  });

  it('decodes the raw request, exports it and answers an empty response', async () => {
    const body = traceRequestProtobuf('grpc-span');
    const { err, value } = await unary(client, TRACES, body);
    expect(err).toBeNull();
    expect(value?.length).toBe(0);
    expect(exporter.calls).toHaveLength(1);
    expect(exporter.calls[0]?.signal).toBe('traces');
    expect(exporter.calls[0]?.bytes).toBe(body.length);
    expect(firstSpanName(exporter.calls[0]?.request)).toBe('grpc-span');
  });

  it('serves the logs and metrics services', async () => {
    expect((await unary(client, LOGS, Buffer.alloc(0))).err).toBeNull();
    expect((await unary(client, METRICS, Buffer.alloc(0))).err).toBeNull();
    expect(exporter.calls.map((c) => c.signal)).toEqual(['logs', 'metrics']);
  });

  it('reports partial success in the response', async () => {
    exporter.outcome = { rejected: 3, message: '3 spans had an empty trace id' };
    const { err, value } = await unary(client, TRACES, traceRequestProtobuf('x'));
    expect(err).toBeNull();
    expect(decodeWire('ExportTraceServiceResponse', value ?? Buffer.alloc(0))).toEqual({
      partial_success: { rejected_spans: 3, error_message: '3 spans had an empty trace id' },
    });
  });

  it('accepts gzip-compressed calls', async () => {
    const gzipClient = new grpc.Client(`127.0.0.1:${receiver.port}`, grpc.credentials.createInsecure(), {
      'grpc.default_compression_algorithm': 2, // gzip
    });
    try {
      const { err } = await unary(gzipClient, TRACES, traceRequestProtobuf('gzipped'));
      expect(err).toBeNull();
      expect(firstSpanName(exporter.calls[0]?.request)).toBe('gzipped');
    } finally {
      gzipClient.close();
    }
  });
});

describe('gRPC receiver: failures', () => {
  it('answers UNAVAILABLE with a RetryInfo in grpc-status-details-bin when retryable', async () => {
    exporter.outcome = new OtlpError('unavailable', 'database is down', 2500);
    const { err } = await unary(client, TRACES, traceRequestProtobuf('x'));
    expect(err?.code).toBe(grpc.status.UNAVAILABLE);
    expect(err?.details).toBe('database is down');
    const [details] = err?.metadata.get('grpc-status-details-bin') ?? [];
    expect(Buffer.isBuffer(details)).toBe(true);
    const status = decodeWire('Status', details as Buffer);
    expect(status['code']).toBe(grpc.status.UNAVAILABLE);
    expect(status['message']).toBe('database is down');
    const [detail] = status['details'] as { type_url: string; value: Uint8Array }[];
    expect(detail?.type_url).toBe('type.googleapis.com/google.rpc.RetryInfo');
    expect(decodeWire('RetryInfo', detail?.value ?? new Uint8Array())).toEqual({
      retry_delay: { seconds: 2, nanos: 500_000_000 },
    });
  });

  it('answers INVALID_ARGUMENT without RetryInfo when the database rejected the data', async () => {
    exporter.outcome = new OtlpError('data_rejected', 'invalid byte sequence');
    const { err } = await unary(client, TRACES, traceRequestProtobuf('x'));
    expect(err?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err?.metadata.get('grpc-status-details-bin')).toEqual([]);
  });

  it('answers INVALID_ARGUMENT for bytes that are not OTLP', async () => {
    const { err } = await unary(client, TRACES, Buffer.from([0xff, 0xff, 0xff, 0xff]));
    expect(err?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(exporter.calls).toHaveLength(0);
  });

  it('answers INTERNAL, not UNKNOWN, for an unexpected exception', async () => {
    exporter.outcome = new TypeError('undefined is not a function');
    const { err } = await unary(client, TRACES, traceRequestProtobuf('x'));
    expect(err?.code).toBe(grpc.status.INTERNAL);
  });

  it('asks admission before decoding: a refusal is answered UNAVAILABLE with RetryInfo, the message never exported', async () => {
    exporter.refusal = new OtlpError('overloaded', 'otlp-pg is at its limit', 2000);
    const { err } = await unary(client, TRACES, traceRequestProtobuf('refused'));
    expect(err?.code).toBe(grpc.status.UNAVAILABLE);
    expect(err?.details).toBe('otlp-pg is at its limit');
    expect(err?.metadata.get('grpc-status-details-bin')).toHaveLength(1);
    expect([exporter.calls.length, exporter.held]).toEqual([0, 0]);
  });

  it('refuses at the headers of a call: the answer comes before the message is sent', async () => {
    exporter.refusal = new OtlpError('overloaded', 'otlp-pg is at its limit', 2000);
    let call!: grpc.ClientWritableStream<Buffer>;
    const { err } = await new Promise<Answer>((resolve) => {
      call = client.makeClientStreamRequest(TRACES, identity, identity, (e, value) => resolve({ err: e, value }));
    });
    expect(err?.code).toBe(grpc.status.UNAVAILABLE);
    call.end();
    expect([exporter.calls.length, exporter.held]).toEqual([0, 0]);
  });

  it('refused calls whose messages were never read do not hold the connection: the next call let in is answered', async () => {
    // 120 refused messages of 128 kB: more than the 100 streams a connection carries, each past a
    // stream's 64 kB flow-control window, and none of them read by otlp-pg.
    const own = new FakeExporter();
    own.refusal = new OtlpError('overloaded', 'otlp-pg is at its limit', 2000);
    const r = await startGrpcReceiver({ host: '127.0.0.1', port: 0, maxRequestBytes: 4 << 20, exporter: own, logger: pino({ level: 'silent' }) });
    const c = new grpc.Client(`127.0.0.1:${r.port}`, grpc.credentials.createInsecure());
    try {
      const refused = await Promise.all(Array.from({ length: 120 }, () => unary(c, TRACES, Buffer.alloc(128 << 10, 1))));
      expect(refused.map((a) => a.err?.code)).toEqual(Array.from({ length: 120 }, () => grpc.status.UNAVAILABLE));
      own.refusal = undefined;
      const { err } = await unary(c, TRACES, traceRequestProtobuf('after the refused'));
      expect(err).toBeNull();
      expect(firstSpanName(own.calls[0]?.request)).toBe('after the refused');
      expect(own.held).toBe(0);
    } finally {
      c.close();
      await r.shutdown(1000);
    }
  });

  it('gives the place back when the client cancels before its message is in', async () => {
    const call = client.makeClientStreamRequest(TRACES, identity, identity, () => undefined);
    await until(() => exporter.held === 1, 'the call admitted at its headers');
    call.cancel();
    await until(() => exporter.held === 0, 'its place given back');
    expect(exporter.calls).toHaveLength(0);
  });

  it('answers INVALID_ARGUMENT for a call of no message or of two, and gives its place back', async () => {
    const stream = (messages: Buffer[]): Promise<Answer> =>
      new Promise((resolve) => {
        const call = client.makeClientStreamRequest(TRACES, identity, identity, (err, value) => resolve({ err, value }));
        for (const m of messages) call.write(m);
        call.end();
      });
    const none = await stream([]);
    expect([none.err?.code, none.err?.details]).toEqual([grpc.status.INVALID_ARGUMENT, 'no message in a call of the unary Export method']);
    const two = await stream([traceRequestProtobuf('a'), traceRequestProtobuf('b')]);
    expect([two.err?.code, two.err?.details]).toEqual([
      grpc.status.INVALID_ARGUMENT,
      'more than one message in a call of the unary Export method',
    ]);
    expect([exporter.calls.length, exporter.held]).toEqual([0, 0]);
  });

  it('answers RESOURCE_EXHAUSTED for a message over the limit, before decoding', async () => {
    const { err } = await unary(client, TRACES, Buffer.alloc(LIMIT + 1));
    expect(err?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(exporter.calls).toHaveLength(0);
    expect(exporter.held).toBe(0);
    expect((await unary(client, TRACES, traceRequestProtobuf('after'))).err).toBeNull();
  });

  it('answers RESOURCE_EXHAUSTED for a compressed message that inflates past the limit', async () => {
    const gzipClient = new grpc.Client(`127.0.0.1:${receiver.port}`, grpc.credentials.createInsecure(), {
      'grpc.default_compression_algorithm': 2,
    });
    try {
      const { err } = await unary(gzipClient, TRACES, Buffer.alloc(16 * 1024 * 1024));
      expect(err?.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      expect(err?.details).toMatch(/decompresses/); // proves the message travelled compressed
      expect(exporter.calls).toHaveLength(0);
      expect(exporter.held).toBe(0);
    } finally {
      gzipClient.close();
    }
  });
});

describe('gRPC receiver: shutdown', () => {
  const start = (own: Exporter): Promise<Receiver> =>
    startGrpcReceiver({ host: '127.0.0.1', port: 0, maxRequestBytes: LIMIT, exporter: own, logger: pino({ level: 'silent' }) });

  it('lets an in-flight call finish, then stops', async () => {
    const own = new FakeExporter();
    let open!: () => void;
    own.gate = new Promise((resolve) => (open = resolve));
    const r = await start(own);
    const c = new grpc.Client(`127.0.0.1:${r.port}`, grpc.credentials.createInsecure());
    try {
      const inFlight = unary(c, TRACES, traceRequestProtobuf('x'));
      await until(() => own.calls.length === 1, 'the call handed to the exporter');
      // Shutdown has begun (it stops listening at once) before the exporter answers.
      const stopped = r.shutdown(5000);
      open();
      expect((await inFlight).err).toBeNull();
      await stopped;
    } finally {
      c.close();
    }
  });

  it('cuts what is still in flight at the deadline', async () => {
    const own = new FakeExporter();
    own.gate = new Promise(() => {});
    const r = await start(own);
    const c = new grpc.Client(`127.0.0.1:${r.port}`, grpc.credentials.createInsecure());
    try {
      const inFlight = unary(c, TRACES, traceRequestProtobuf('x'));
      await until(() => own.calls.length === 1, 'the call handed to the exporter');
      // Resolves although the exporter never answers (the test would time out otherwise); the test above
      // shows a call answered before the deadline is not cut.
      await r.shutdown(100);
      // grpc-js's forceShutdown resets the HTTP/2 session with NGHTTP2_CANCEL, which clients report as CANCELLED.
      expect((await inFlight).err?.code).toBe(grpc.status.CANCELLED);
    } finally {
      c.close();
    }
  });
});
