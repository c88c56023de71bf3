// Wire facts for the receiver tests, written out here rather than loaded from proto/, so those tests
// do not share a mistake with it: the response and status messages they decode, and a minimal
// ExportTraceServiceRequest they encode by hand.
import protobuf from 'protobufjs';

const wire = protobuf.Root.fromJSON({
  nested: {
    Status: { fields: { code: { type: 'int32', id: 1 }, message: { type: 'string', id: 2 }, details: { rule: 'repeated', type: 'Any', id: 3 } } },
    Any: { fields: { type_url: { type: 'string', id: 1 }, value: { type: 'bytes', id: 2 } } },
    RetryInfo: { fields: { retry_delay: { type: 'Duration', id: 1 } } },
    Duration: { fields: { seconds: { type: 'int64', id: 1 }, nanos: { type: 'int32', id: 2 } } },
    ExportTraceServiceResponse: { fields: { partial_success: { type: 'PartialSuccess', id: 1 } } },
    PartialSuccess: { fields: { rejected_spans: { type: 'int64', id: 1 }, error_message: { type: 'string', id: 2 } } },
  },
});

export const decodeWire = (type: string, bytes: Uint8Array): Record<string, unknown> =>
  wire.lookupType(type).toObject(wire.lookupType(type).decode(bytes), { longs: Number, defaults: true });

/** ExportTraceServiceRequest { resource_spans { scope_spans { spans { trace_id, span_id, name } } } }. */
export function traceRequestProtobuf(spanName: string): Buffer {
  const span = protobuf.Writer.create()
    .uint32((1 << 3) | 2).bytes(Buffer.alloc(16, 0xab))
    .uint32((2 << 3) | 2).bytes(Buffer.alloc(8, 0xcd))
    .uint32((5 << 3) | 2).string(spanName)
    .finish();
  const scopeSpans = protobuf.Writer.create().uint32((2 << 3) | 2).bytes(span).finish();
  const resourceSpans = protobuf.Writer.create().uint32((2 << 3) | 2).bytes(scopeSpans).finish();
  return Buffer.from(protobuf.Writer.create().uint32((1 << 3) | 2).bytes(resourceSpans).finish());
}
