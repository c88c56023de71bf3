import { describe, expect, it } from 'vitest';
import {
  JsonLogsSerializer,
  JsonMetricsSerializer,
  JsonTraceSerializer,
  ProtobufLogsSerializer,
  ProtobufMetricsSerializer,
  ProtobufTraceSerializer,
} from '@opentelemetry/otlp-transformer';
import { encodeExportResponse, encodeGrpcStatusDetails, encodeStatus } from '../../src/decode/index.js';
import { ld, varint } from '../helpers/decode-fixtures.js';

// The OTel JS exporters' own response parsers: what a real client makes of our bytes.
const CLIENTS = {
  traces: { protobuf: ProtobufTraceSerializer, json: JsonTraceSerializer, rejected: 'rejectedSpans' },
  logs: { protobuf: ProtobufLogsSerializer, json: JsonLogsSerializer, rejected: 'rejectedLogRecords' },
  metrics: { protobuf: ProtobufMetricsSerializer, json: JsonMetricsSerializer, rejected: 'rejectedDataPoints' },
} as const;
const SIGNALS = ['traces', 'logs', 'metrics'] as const;
const ENCODINGS = ['protobuf', 'json'] as const;

describe('encodeExportResponse', () => {
  it('sends full success as the empty message', () => {
    expect(encodeExportResponse('traces', 'protobuf', { rejected: 0, message: '' })).toHaveLength(0);
    expect(encodeExportResponse('traces', 'json', { rejected: 0, message: '' }).toString()).toBe('{}');
    for (const signal of SIGNALS) {
      for (const encoding of ENCODINGS) {
        const body = encodeExportResponse(signal, encoding, { rejected: 0, message: '' });
        expect(CLIENTS[signal][encoding].deserializeResponse(body)).toEqual({});
      }
    }
  });

  it.each(SIGNALS.flatMap((signal) => ENCODINGS.map((encoding) => ({ signal, encoding }))))(
    'sends partial success for $signal as $encoding, read back by the OTel JS exporter',
    ({ signal, encoding }) => {
      const body = encodeExportResponse(signal, encoding, { rejected: 3, message: '3 items had no timestamp' });
      expect(CLIENTS[signal][encoding].deserializeResponse(body)).toEqual({
        partialSuccess: { [CLIENTS[signal].rejected]: 3, errorMessage: '3 items had no timestamp' },
      });
    },
  );

  it('writes exact protobuf and plain JSON numbers', () => {
    const body = encodeExportResponse('metrics', 'protobuf', { rejected: 300, message: 'm' });
    // ExportMetricsServiceResponse{partial_success=1: {rejected_data_points=1: 300, error_message=2: "m"}}
    expect(body).toEqual(Buffer.from(ld(1, [0x08, ...varint(300), ...ld(2, [0x6d])])));
    expect(JSON.parse(encodeExportResponse('logs', 'json', { rejected: 2, message: 'm' }).toString())).toEqual({
      partialSuccess: { rejectedLogRecords: 2, errorMessage: 'm' },
    });
  });

  it('sends a warning without a count when nothing was rejected', () => {
    const warning = { rejected: 0, message: 'slow down' };
    expect(JSON.parse(encodeExportResponse('traces', 'json', warning).toString())).toEqual({
      partialSuccess: { errorMessage: 'slow down' },
    });
    expect(ProtobufTraceSerializer.deserializeResponse(encodeExportResponse('traces', 'protobuf', warning))).toEqual({
      partialSuccess: { errorMessage: 'slow down' },
    });
  });
});

describe('encodeStatus and encodeGrpcStatusDetails', () => {
  const RETRY_INFO_URL = [...Buffer.from('type.googleapis.com/google.rpc.RetryInfo')];
  /** google.rpc.Status{code=1, message=2, details=3: Any{type_url=1, value=2: RetryInfo{retry_delay=1: Duration}}} */
  const status = (code: number, message: string, duration?: number[]): Buffer =>
    Buffer.from([
      0x08,
      ...varint(code),
      ...ld(2, [...Buffer.from(message)]),
      ...(duration === undefined ? [] : ld(3, [...ld(1, RETRY_INFO_URL), ...ld(2, ld(1, duration))])),
    ]);

  it('writes a google.rpc.Status with a RetryInfo detail in protobuf', () => {
    // Duration{seconds=1: 1, nanos=2: 500000000}
    expect(encodeStatus('protobuf', 14, 'database unavailable', 1500)).toEqual(
      status(14, 'database unavailable', [0x08, 1, 0x10, ...varint(500_000_000)]),
    );
    expect(encodeStatus('protobuf', 14, 'x', 2000)).toEqual(status(14, 'x', [0x08, 2]));
    expect(encodeStatus('protobuf', 3, 'bad request')).toEqual(status(3, 'bad request'));
  });

  it('writes the proto3 JSON mapping in JSON: Any as "@type", Duration as seconds', () => {
    const parse = (body: Buffer): unknown => JSON.parse(body.toString());
    expect(parse(encodeStatus('json', 14, 'database unavailable', 1500))).toEqual({
      code: 14,
      message: 'database unavailable',
      details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '1.500s' }],
    });
    expect(parse(encodeStatus('json', 14, 'x', 2000))).toMatchObject({ details: [{ retryDelay: '2s' }] });
    expect(parse(encodeStatus('json', 14, 'x', 250))).toMatchObject({ details: [{ retryDelay: '0.250s' }] });
    expect(parse(encodeStatus('json', 3, 'bad request'))).toEqual({ code: 3, message: 'bad request' });
  });

  it('gives grpc-status-details-bin the protobuf Status', () => {
    expect(encodeGrpcStatusDetails(14, 'overloaded', 1000)).toEqual(encodeStatus('protobuf', 14, 'overloaded', 1000));
    expect(encodeGrpcStatusDetails(14, 'overloaded', 1000)).toEqual(status(14, 'overloaded', [0x08, 1]));
  });
});
