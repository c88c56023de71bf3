import { describe, expect, it } from 'vitest';
import type { HrTime } from '@opentelemetry/api';
import {
  ProtobufLogsSerializer,
  ProtobufMetricsSerializer,
  ProtobufTraceSerializer,
} from '@opentelemetry/otlp-transformer';
import { decodeRequest } from '../../src/decode/index.js';
import type { AnyValue, KeyValue, Metric } from '../../src/decode/types.js';
import {
  EXAMPLES,
  LINKED,
  REMOTE_PARENT,
  attribute,
  deepLogRequest,
  exampleJson,
  fixed64,
  float64,
  invalid,
  jsonToProtobuf,
  ld,
  only,
  sdkLogRecords,
  sdkMetrics,
  sdkSpans,
  text,
  u32,
  varint,
} from '../helpers/decode-fixtures.js';
import { withAttributesDecoded } from '../helpers/decoded.js';

const id = (hex: string): Buffer => Buffer.from(hex, 'hex');
const ns = ([seconds, nanos]: HrTime): bigint => BigInt(seconds) * 1_000_000_000n + BigInt(nanos);
const str = (value: string): AnyValue => ({ kind: 'string', value });
const int = (value: bigint): AnyValue => ({ kind: 'int', value });
const double = (value: number): AnyValue => ({ kind: 'double', value });
const kv = (key: string, value: AnyValue): KeyValue => ({ key, value });

const RESOURCE = {
  attributes: [kv('service.name', str('checkout')), kv('host.cpu.count', int(8n))],
  droppedAttributesCount: 0,
};

describe('protobuf: what the OTel JS SDK exports (otlp-transformer serializers)', () => {
  it('decodes a span: ids, exact ns times, typed attributes, event, link, status, flags, resource, scope', () => {
    const [sdkSpan] = sdkSpans();
    const request = withAttributesDecoded('traces', decodeRequest('traces', ProtobufTraceSerializer.serializeRequest([sdkSpan!])!, 'protobuf'));

    const resourceSpans = only(request.resourceSpans);
    expect(resourceSpans.resource).toEqual(RESOURCE);
    const scopeSpans = only(resourceSpans.scopeSpans);
    expect(scopeSpans.scope).toEqual({
      name: 'checkout-lib',
      version: '1.2.3',
      attributes: [],
      droppedAttributesCount: 0,
    });
    expect(only(scopeSpans.spans)).toEqual({
      traceId: id(REMOTE_PARENT.traceId),
      spanId: id(sdkSpan!.spanContext().spanId),
      traceState: 'vendor=value',
      parentSpanId: id(REMOTE_PARENT.spanId),
      flags: 0x301, // sampled | parent's remoteness known | parent is remote
      name: 'GET /cart',
      kind: 2,
      startTimeUnixNano: 1700000000123456789n,
      endTimeUnixNano: 1700000001999999999n,
      attributes: [
        kv('http.status', int(500n)),
        kv('ratio', double(0.25)),
        kv('cached', { kind: 'bool', value: false }),
        kv('ids', { kind: 'array', value: [int(1n), int(2n), int(3n)] }),
        kv('max.safe', int(9007199254740991n)),
      ],
      droppedAttributesCount: 0,
      events: [
        {
          timeUnixNano: 1700000000223456789n,
          name: 'cache.miss',
          attributes: [kv('cache.key', str('cart:42'))],
          droppedAttributesCount: 0,
        },
      ],
      droppedEventsCount: 0,
      links: [
        {
          traceId: id(LINKED.traceId),
          spanId: id(LINKED.spanId),
          traceState: '',
          attributes: [kv('link.kind', str('follows'))],
          droppedAttributesCount: 0,
          flags: 0x100,
        },
      ],
      droppedLinksCount: 0,
      status: { message: 'boom', code: 2 },
    });
  });

  it('decodes an event log record: kvlist body with array and bytes, severity, trace context', () => {
    const request = withAttributesDecoded('logs', decodeRequest('logs', ProtobufLogsSerializer.serializeRequest(sdkLogRecords())!, 'protobuf'));

    const resourceLogs = only(request.resourceLogs);
    expect(resourceLogs.resource).toEqual(RESOURCE);
    const scopeLogs = only(resourceLogs.scopeLogs);
    expect(scopeLogs.scope?.name).toBe('checkout-log');
    expect(only(scopeLogs.logRecords)).toEqual({
      timeUnixNano: 1700000002000000005n,
      observedTimeUnixNano: 1700000002000000006n,
      severityNumber: 13,
      severityText: 'WARN',
      body: {
        kind: 'kvlist',
        value: [
          kv('user', str('u1')),
          kv('items', { kind: 'array', value: [int(1n), double(2.5), { kind: 'bool', value: true }] }),
          kv('raw', { kind: 'bytes', value: Buffer.from([0, 1, 255]) }),
        ],
      },
      attributes: [kv('retry.count', int(3n))],
      droppedAttributesCount: 0,
      flags: 1,
      traceId: id(REMOTE_PARENT.traceId),
      spanId: id(REMOTE_PARENT.spanId),
      eventName: 'cart.checkout',
    });
  });

  it('decodes metrics: int sum, double gauge, histogram, exponential histogram', async () => {
    const resourceMetrics = await sdkMetrics();
    const request = withAttributesDecoded('metrics', decodeRequest('metrics', ProtobufMetricsSerializer.serializeRequest(resourceMetrics)!, 'protobuf'));

    const decoded = only(request.resourceMetrics);
    expect(decoded.resource).toEqual(RESOURCE);
    const scopeMetrics = only(decoded.scopeMetrics);
    expect(scopeMetrics.scope?.version).toBe('3.0.0');
    const byName = new Map<string, Metric>(scopeMetrics.metrics.map((m) => [m.name, m]));
    const times = (name: string) => {
      const point = resourceMetrics.scopeMetrics[0]!.metrics.find((m) => m.descriptor.name === name)!.dataPoints[0]!;
      return { startTimeUnixNano: ns(point.startTime), timeUnixNano: ns(point.endTime) };
    };

    expect(byName.get('orders')?.data).toEqual({
      type: 'sum',
      dataPoints: [
        { attributes: [kv('region', str('eu'))], ...times('orders'), value: int(5n), exemplars: [], flags: 0 },
      ],
      aggregationTemporality: 2,
      isMonotonic: true,
    });
    expect(byName.get('temperature')).toMatchObject({
      unit: 'Cel',
      data: { type: 'gauge', dataPoints: [{ ...times('temperature'), value: double(21.5) }] },
    });
    expect(byName.get('latency')?.data).toEqual({
      type: 'histogram',
      dataPoints: [
        {
          attributes: [],
          ...times('latency'),
          count: 2n,
          sum: 57,
          bucketCounts: [1n, 1n, 0n],
          explicitBounds: [10, 100],
          exemplars: [],
          flags: 0,
          min: 7,
          max: 50,
        },
      ],
      aggregationTemporality: 2,
    });
    const exponential = byName.get('latency.exp')?.data;
    expect(exponential).toMatchObject({ type: 'exponential_histogram', aggregationTemporality: 2 });
    const point = exponential?.type === 'exponential_histogram' ? only(exponential.dataPoints) : undefined;
    expect(point).toMatchObject({
      ...times('latency.exp'),
      count: 2n,
      sum: 15,
      min: 3,
      max: 12,
      zeroCount: 0n,
      zeroThreshold: 0,
      negative: { offset: 0, bucketCounts: [] },
    });
    expect(point?.positive?.bucketCounts.reduce((a, b) => a + b)).toBe(2n);
  });
});

describe('protobuf: the upstream OTLP/JSON examples, converted by protobufjs', () => {
  it.each(EXAMPLES)('$file decodes exactly as its JSON does', ({ file, signal }) => {
    const json = exampleJson(file);
    const fromProtobuf = withAttributesDecoded(signal, decodeRequest(signal, jsonToProtobuf(signal, json), 'protobuf'));
    expect(fromProtobuf).toEqual(decodeRequest(signal, json, 'json'));
  });
});

describe('protobuf: hand-encoded fields the JS SDK never sends, numbered from the OTLP spec', () => {
  // Exemplar{filtered_attributes=7, time_unix_nano=2, as_double=3, span_id=4, trace_id=5}
  const exemplar = [
    ...attribute(7, 'user', 'u1'),
    ...fixed64(2, 7n),
    ...float64(3, 0.5),
    ...ld(4, [...id(REMOTE_PARENT.spanId)]),
    ...ld(5, [...id(REMOTE_PARENT.traceId)]),
  ];
  // NumberDataPoint{time_unix_nano=3 (fixed64), as_int=6 (sfixed64), exemplars=5, flags=8}
  const numberPoint = [...fixed64(3, 18446744073709551615n), ...fixed64(6, -5n), ...ld(5, exemplar), ...u32(8, 1)];
  // SummaryDataPoint{attributes=7, count=4, sum=5, quantile_values=6: {quantile=1, value=2}, flags=8}
  const summaryPoint = [
    ...attribute(7, 'route', '/'),
    ...fixed64(4, 3n),
    ...float64(5, 1.5),
    ...ld(6, [...float64(1, 0.99), ...float64(2, 0.75)]),
    ...u32(8, 1),
  ];
  // Metric{name=1, gauge=5: Gauge{data_points=1}, metadata=12} and Metric{name=1, summary=11: Summary{data_points=1}}
  const gauge = [...text(1, 'g'), ...ld(5, ld(1, numberPoint)), ...attribute(12, 'origin', 'prometheus')];
  const summary = [...text(1, 's'), ...ld(11, ld(1, summaryPoint))];
  // ExportMetricsServiceRequest{resource_metrics=1: {scope_metrics=2: {metrics=2, metrics=2}}}
  const body = Uint8Array.from(ld(1, ld(2, [...ld(2, gauge), ...ld(2, summary)])));

  const jsonTwin = `{"resourceMetrics":[{"scopeMetrics":[{"metrics":[
    {"name":"g","metadata":[{"key":"origin","value":{"stringValue":"prometheus"}}],
     "gauge":{"dataPoints":[{"timeUnixNano":"18446744073709551615","asInt":"-5","flags":1,
       "exemplars":[{"filteredAttributes":[{"key":"user","value":{"stringValue":"u1"}}],"timeUnixNano":"7",
         "asDouble":0.5,"spanId":"${REMOTE_PARENT.spanId}","traceId":"${REMOTE_PARENT.traceId}"}]}]}},
    {"name":"s","summary":{"dataPoints":[{"attributes":[{"key":"route","value":{"stringValue":"/"}}],
      "count":"3","sum":1.5,"quantileValues":[{"quantile":0.99,"value":0.75}],"flags":1}]}}
  ]}]}]}`;

  it('decodes summaries, exemplars, metadata and 64-bit extremes', () => {
    const [g, sm] = only(only(withAttributesDecoded('metrics', decodeRequest('metrics', body, 'protobuf')).resourceMetrics).scopeMetrics).metrics;
    expect(g?.metadata).toEqual([kv('origin', str('prometheus'))]);
    expect(g?.data).toEqual({
      type: 'gauge',
      dataPoints: [
        {
          attributes: [],
          startTimeUnixNano: 0n,
          timeUnixNano: 18446744073709551615n,
          value: int(-5n),
          exemplars: [
            {
              filteredAttributes: [kv('user', str('u1'))],
              timeUnixNano: 7n,
              value: double(0.5),
              spanId: id(REMOTE_PARENT.spanId),
              traceId: id(REMOTE_PARENT.traceId),
            },
          ],
          flags: 1,
        },
      ],
    });
    expect(sm?.data).toEqual({
      type: 'summary',
      dataPoints: [
        {
          attributes: [kv('route', str('/'))],
          startTimeUnixNano: 0n,
          timeUnixNano: 0n,
          count: 3n,
          sum: 1.5,
          quantileValues: [{ quantile: 0.99, value: 0.75 }],
          flags: 1,
        },
      ],
    });
  });

  it('matches its OTLP/JSON twin', () => {
    expect(withAttributesDecoded('metrics', decodeRequest('metrics', body, 'protobuf'))).toEqual(decodeRequest('metrics', Buffer.from(jsonTwin), 'json'));
  });
});

describe('protobuf: edge cases of the wire format', () => {
  // ResourceSpans{scope_spans: ScopeSpans{spans: Span{…}}} around the given Span fields.
  const traceRequest = (span: number[]): Uint8Array => Uint8Array.from(ld(1, ld(2, ld(2, span))));
  const spanOf = (body: Uint8Array) =>
    only(only(only(decodeRequest('traces', body, 'protobuf').resourceSpans).scopeSpans).spans);

  it('decodes an empty body as an empty request', () => {
    expect(decodeRequest('metrics', new Uint8Array(0), 'protobuf')).toEqual({ resourceMetrics: [] });
  });

  it('ignores unknown fields and the profiles-only string index fields', () => {
    const unknown = [...varint(99 * 8), 7]; // field 99, varint
    const strindexAttribute = ld(9, [...ld(1, [...Buffer.from('k')]), ...ld(2, [8 * 8, 3]), 3 * 8, 1]);
    const span = spanOf(traceRequest([...unknown, ...ld(5, [...Buffer.from('named')]), ...strindexAttribute]));
    expect(span.name).toBe('named');
    expect(span.attributes).toEqual([kv('k', { kind: 'empty' })]);
    expect(span.status).toBeUndefined();
    expect(span.traceId).toHaveLength(0);
  });

  it('refuses garbage', () => {
    invalid(() => decodeRequest('traces', Buffer.from('this is not protobuf'), 'protobuf'));
    invalid(() => decodeRequest('logs', new Uint8Array(11).fill(0xff), 'protobuf'));
  });

  it('refuses every truncation of a valid request', () => {
    const body = ProtobufTraceSerializer.serializeRequest(sdkSpans())!;
    for (let length = 1; length < body.length; length++) {
      invalid(() => decodeRequest('traces', body.subarray(0, length), 'protobuf'));
    }
  });

  it('refuses a known field sent with the wrong wire type', () => {
    expect(invalid(() => decodeRequest('traces', Uint8Array.from([0x08, 0x01]), 'protobuf')).message).toMatch(
      /ExportTraceServiceRequest\.resourceSpans/,
    );
    expect(invalid(() => spanOf(traceRequest([5 * 8, 1]))).message).toMatch(/Span\.name \(5\) has wire type 0/);
  });

  it('refuses strings that are not UTF-8', () => {
    invalid(() => spanOf(traceRequest(ld(5, [0xff, 0xfe]))));
  });

  it.each(['kvlist', 'array'] as const)('accepts AnyValues nested 64 deep through %s, refuses 65 and 10000', (via) => {
    const request = decodeRequest('logs', deepLogRequest(64, via), 'protobuf');
    let value = only(only(only(request.resourceLogs).scopeLogs).logRecords).body;
    for (let depth = 1; depth < 64; depth++) {
      if (value?.kind === 'kvlist') value = value.value[0]?.value;
      else if (value?.kind === 'array') value = value.value[0];
    }
    expect(value).toEqual(str('leaf'));
    expect(invalid(() => decodeRequest('logs', deepLogRequest(65, via), 'protobuf')).message).toMatch(/deeper than 64/);
    invalid(() => decodeRequest('logs', deepLogRequest(10_000, via), 'protobuf'));
  });
});
