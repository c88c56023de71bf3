import { describe, expect, it } from 'vitest';
import type { ExportTraceServiceRequest, Span } from '../../src/decode/types.js';
import { mapTraces } from '../../src/map/traces.js';

const id = (len: number, fill: number): Uint8Array => new Uint8Array(len).fill(fill);

function span(overrides: Partial<Span> = {}): Span {
  return {
    traceId: id(16, 1),
    spanId: id(8, 2),
    traceState: '',
    parentSpanId: new Uint8Array(0),
    flags: 1,
    name: 'op',
    kind: 1,
    startTimeUnixNano: 1_000n,
    endTimeUnixNano: 3_000n,
    attributes: [],
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: undefined,
    ...overrides,
  };
}

function request(...spans: Span[]): ExportTraceServiceRequest {
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { kind: 'string', value: 'svc' } }], droppedAttributesCount: 0 },
        schemaUrl: '',
        scopeSpans: [{ scope: { name: 'lib', version: '1', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', spans }],
      },
    ],
  };
}

describe('mapTraces', () => {
  it('maps a span to one row with its resource and scope stored once', () => {
    const out = mapTraces(request(span(), span({ spanId: id(8, 3), parentSpanId: id(8, 2) })));
    expect(out.accepted).toBe(2);
    expect(out.rejected).toBe(0);
    expect(out.message).toBe('');
    expect(out.rows.spans).toHaveLength(2);
    expect(out.rows.resources).toHaveLength(1);
    expect(out.rows.scopes).toHaveLength(1);
    expect(out.rows.spans[0]?.serviceName).toBe('svc');
    expect(out.rows.spans[0]?.resourceId).toBe(out.rows.resources[0]?.resourceId);
    expect(out.rows.traces).toHaveLength(1);
    expect(out.rows.traces[0]).toMatchObject({ spanCount: 2, rootSpanName: 'op', rootServiceName: 'svc' });
  });

  it('rejects only the spans that cannot be stored, saying why (partial success)', () => {
    const out = mapTraces(
      request(
        span(),
        span({ traceId: new Uint8Array(0) }),
        span({ traceId: id(16, 0) }),
        span({ spanId: id(7, 1) }),
        span({ startTimeUnixNano: 1n << 63n }),
      ),
    );
    expect(out.accepted).toBe(1);
    expect(out.rejected).toBe(4);
    expect(out.message).toBe(
      'rejected 4 of 5 spans: trace_id must be 16 bytes and not all zero (2); span_id must be 8 bytes and not all zero (1); ' +
        'timestamps must be before 2262-04-11 (1)',
    );
  });

  it('keeps uint32 counts up to 2^32−1 and an event time past 2262, which jsonb holds (issue 12)', () => {
    const max = 2 ** 32 - 1;
    const out = mapTraces(
      request(
        span({
          droppedAttributesCount: max,
          droppedEventsCount: max,
          droppedLinksCount: max,
          events: [{ timeUnixNano: (1n << 64n) - 1n, name: 'e', attributes: [], droppedAttributesCount: max }],
        }),
      ),
    );
    expect(out.rejected).toBe(0);
    expect(out.rows.spans[0]).toMatchObject({ droppedAttributesCount: max, droppedEventsCount: max, droppedLinksCount: max });
    expect(out.rows.spans[0]?.events).toBe(
      `[{"time_unix_nano":"18446744073709551615","name":"e","attributes":{},"dropped_attributes_count":${max}}]`,
    );
  });

  it('gives equal resources the same id whatever the attribute order', () => {
    const withResource = (...keys: string[]): ExportTraceServiceRequest => ({
      resourceSpans: [
        {
          resource: { attributes: keys.map((key) => ({ key, value: { kind: 'string', value: key } })), droppedAttributesCount: 0 },
          schemaUrl: '',
          scopeSpans: [{ scope: undefined, schemaUrl: '', spans: [span()] }],
        },
      ],
    });
    const ab = mapTraces(withResource('a', 'b')).rows.resources[0];
    const ba = mapTraces(withResource('b', 'a')).rows.resources[0];
    const a = mapTraces(withResource('a')).rows.resources[0];
    expect(ab?.resourceId).toBe(ba?.resourceId);
    expect(ab?.attributes).toBe('{"a":"a","b":"b"}');
    expect(ab?.resourceId).not.toBe(a?.resourceId);
  });

  it('summarises the spans of one request per trace, the same in any order', () => {
    const other = id(16, 9);
    const spans = [
      span({ spanId: id(8, 5), parentSpanId: id(8, 2), startTimeUnixNano: 500n, endTimeUnixNano: 9_000n, status: { code: 2, message: '' } }),
      span({ traceId: other, spanId: id(8, 7), name: 'other root' }),
      span({ spanId: id(8, 6), parentSpanId: id(8, 2), startTimeUnixNano: 500n, endTimeUnixNano: 700n }),
      span(),
      span({ spanId: id(8, 8), name: 'second root', startTimeUnixNano: 400n, status: { code: 2, message: '' } }),
      span({ traceId: other, spanId: id(8, 3), parentSpanId: id(8, 7), endTimeUnixNano: 99_000n }),
    ];
    const orders = [spans, [...spans].reverse(), [spans[3], spans[1], spans[4], spans[0], spans[5], spans[2]] as Span[]];
    const summaries = (order: Span[]) => [...mapTraces(request(...order)).rows.traces].sort((x, y) => (x.traceId[0] ?? 0) - (y.traceId[0] ?? 0));
    for (const order of orders) {
      // Two roots: the smallest span_id is the root whatever the order (as the database's fold decides).
      expect(summaries(order)).toEqual([
        expect.objectContaining({ rootSpanName: 'op', rootSpanId: id(8, 2), spanCount: 4, errorCount: 2, startTimeUnixNano: 400n, endTimeUnixNano: 9_000n }),
        expect.objectContaining({ rootSpanName: 'other root', rootSpanId: id(8, 7), spanCount: 2, errorCount: 0, endTimeUnixNano: 99_000n }),
      ]);
      expect(summaries(order)).toEqual(summaries(spans));
    }
  });

  it('breaks a tie of earliest start by the smaller service name, in any order', () => {
    const resource = (service: string, spanId: number) => ({
      ...request(span({ spanId: id(8, spanId), parentSpanId: id(8, 9) })).resourceSpans[0]!,
      resource: { attributes: [{ key: 'service.name', value: { kind: 'string' as const, value: service } }], droppedAttributesCount: 0 },
    });
    const [b, a] = [resource('b', 3), resource('a', 4)];
    expect(mapTraces({ resourceSpans: [b, a] }).rows.traces[0]?.firstServiceName).toBe('a');
    expect(mapTraces({ resourceSpans: [a, b] }).rows.traces[0]?.firstServiceName).toBe('a');
  });
});
