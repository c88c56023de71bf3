// The delay a server asks a refused client to wait (https://opentelemetry.io/docs/specs/otlp/#failures):
// HTTP Retry-After in whole seconds, gRPC google.rpc.RetryInfo inside the google.rpc.Status sent as
// `grpc-status-details-bin`. Read by hand from the wire (a few fields), so the load generator needs no
// schema to honour it.

const RETRY_INFO_URL = 'type.googleapis.com/google.rpc.RetryInfo';

/** Retry-After as delay-seconds; an HTTP-date or anything else is no hint. */
export function retryAfterHeaderMs(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value.trim()) * 1000;
}

/** RetryInfo.retry_delay of a serialized google.rpc.Status, in ms; undefined when there is none. */
export function retryInfoMs(status: Uint8Array): number | undefined {
  try {
    for (const [field, any] of fields(status)) {
      if (field !== 3 || !(any instanceof Uint8Array)) continue; // Status.details: repeated Any
      const parts = new Map(fields(any));
      const url = parts.get(1);
      const info = parts.get(2);
      if (!(url instanceof Uint8Array) || Buffer.from(url).toString() !== RETRY_INFO_URL || !(info instanceof Uint8Array)) continue;
      const delay = new Map(fields(info)).get(1); // RetryInfo.retry_delay: Duration
      if (!(delay instanceof Uint8Array)) return 0;
      const d = new Map(fields(delay));
      return Number(d.get(1) ?? 0) * 1000 + Math.round(Number(d.get(2) ?? 0) / 1e6);
    }
  } catch {
    // A malformed detail is no hint.
  }
  return undefined;
}

/** Top-level fields of a protobuf message: varints as bigint, length-delimited as bytes; others skipped. */
function* fields(bytes: Uint8Array): Generator<[number, bigint | Uint8Array]> {
  let at = 0;
  const varint = (): bigint => {
    let value = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (at >= bytes.length) throw new RangeError('truncated varint');
      const b = bytes[at++] as number;
      value |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return value;
    }
  };
  while (at < bytes.length) {
    const tag = Number(varint());
    const wire = tag & 7;
    if (wire === 0) yield [tag >>> 3, varint()];
    else if (wire === 2) {
      const length = Number(varint());
      if (at + length > bytes.length) throw new RangeError('truncated field');
      yield [tag >>> 3, bytes.subarray(at, at + length)];
      at += length;
    } else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else throw new RangeError(`unsupported wire type ${wire}`);
  }
}
