import type { Signal } from '../decode/types.js';

// A request is serialized once and replayed many times. Replaying the very same bytes would store
// the same trace ids over and over (every trace summary an UPDATE of one row instead of an INSERT)
// and timestamps that age as the run goes on; real traffic has neither. So a template also knows
// where in its bytes each trace id and each timestamp sits, and every send rewrites those bytes in
// a copy: trace ids varied by the send's sequence number, timestamps moved to the send time. That
// costs a buffer copy and a few hundred small writes per request, not a new serialization.

/** One serialized Export*ServiceRequest and where to rewrite it. */
export interface Template {
  readonly signal: Signal;
  readonly bytes: Buffer;
  /** Spans, log records or data points in the request. */
  readonly items: number;
  /** Service (resource service.name) the request comes from. */
  readonly service: string;
  /** For each distinct trace id: every offset of its 16 bytes. */
  readonly traceIdSlots: readonly (readonly number[])[];
  /** For each distinct fixed64 timestamp: its value at build time and every offset of its 8 bytes. */
  readonly timeSlots: readonly { readonly builtAt: bigint; readonly offsets: readonly number[] }[];
  /** For each distinct name token (16 hex characters in a metric name): its value and every offset. */
  readonly nameSlots: readonly { readonly token: bigint; readonly offsets: readonly number[] }[];
  /**
   * Set when the request holds one service's spans of traces spread over several requests (fan-in):
   * the parts of a group together hold whole traces, so a send must render them all with the same
   * sequence number and time shift, or their spans would no longer share trace ids.
   */
  readonly fanIn?: FanInPart;
}

/** Part `part` (0 holds the root spans) of fan-in group `group`. */
export interface FanInPart {
  readonly group: number;
  readonly part: number;
}

/**
 * Every offset of each needle (none shorter than 4 bytes) in `haystack`, its occurrences not
 * overlapping, in one pass: needles are looked up by their first four bytes, so the cost is the
 * request's length and not its length times the thousands of timestamps of a large request.
 */
function offsetsOfEach(haystack: Buffer, needles: readonly Buffer[]): number[][] {
  const out = needles.map((): number[] => []);
  const nextFree = needles.map(() => 0);
  const byPrefix = new Map<number, number[]>();
  needles.forEach((needle, i) => {
    const prefix = needle.readUInt32LE(0);
    byPrefix.set(prefix, [...(byPrefix.get(prefix) ?? []), i]);
  });
  for (let at = 0; at + 4 <= haystack.length; at++) {
    for (const i of byPrefix.get(haystack.readUInt32LE(at)) ?? []) {
      const needle = needles[i] as Buffer;
      if (at < (nextFree[i] as number) || at + needle.length > haystack.length) continue;
      if (haystack.compare(needle, 0, needle.length, at, at + needle.length) !== 0) continue;
      out[i]?.push(at);
      nextFree[i] = at + needle.length;
    }
  }
  return out;
}

function uint64LE(value: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(value);
  return b;
}

/**
 * Locates the given trace ids, timestamps and name tokens in `bytes`. They are found by value:
 * trace ids are 16 random bytes, timestamps 8 bytes of nanoseconds and name tokens 16 random hex
 * characters, which no other field of a request repeats by chance. Values not present (an SDK may
 * drop what it does not serialize) have no slot.
 */
export function makeTemplate(
  signal: Signal,
  service: string,
  bytes: Uint8Array,
  items: number,
  traceIds: Iterable<Uint8Array>,
  times: Iterable<bigint>,
  nameTokens: Iterable<string> = [],
): Template {
  const buf = Buffer.from(bytes);
  const ids = [...new Set([...traceIds].filter((id) => id.length === 16).map((id) => Buffer.from(id).toString('hex')))];
  const builtAts = [...new Set(times)].filter((t) => t > 0n);
  const tokens = [...new Set(nameTokens)].filter((token) => /^[0-9a-f]{16}$/.test(token));
  const found = offsetsOfEach(buf, [
    ...ids.map((id) => Buffer.from(id, 'hex')),
    ...builtAts.map(uint64LE),
    ...tokens.map((token) => Buffer.from(token, 'latin1')),
  ]);
  const idOffsets = found.slice(0, ids.length);
  const timeOffsets = found.slice(ids.length, ids.length + builtAts.length);
  const tokenOffsets = found.slice(ids.length + builtAts.length);
  const traceIdSlots = idOffsets.filter((offsets) => offsets.length > 0);
  const timeSlots = builtAts.map((builtAt, i) => ({ builtAt, offsets: timeOffsets[i] as number[] })).filter((t) => t.offsets.length > 0);
  const nameSlots = tokens.map((token, i) => ({ token: BigInt(`0x${token}`), offsets: tokenOffsets[i] as number[] })).filter((t) => t.offsets.length > 0);
  return { signal, service, bytes: buf, items, traceIdSlots, timeSlots, nameSlots };
}

/**
 * The bytes to send for the request numbered `seq` made from this template, its timestamps moved
 * by `shiftNs`. The low 8 bytes of each trace id are XORed with `seq`, so ids differ between sends
 * with different numbers while the spans of one trace keep sharing theirs; name tokens likewise.
 */
export function render(template: Template, seq: bigint, shiftNs: bigint): Buffer {
  const out = Buffer.from(template.bytes);
  const mask = BigInt.asUintN(64, seq);
  for (const offsets of template.traceIdSlots) {
    const first = offsets[0] as number;
    const varied = out.readBigUInt64BE(first + 8) ^ mask;
    for (const at of offsets) out.writeBigUInt64BE(varied, at + 8);
  }
  for (const { builtAt, offsets } of template.timeSlots) {
    const t = BigInt.asUintN(64, builtAt + shiftNs);
    for (const at of offsets) out.writeBigUInt64LE(t, at);
  }
  for (const { token, offsets } of template.nameSlots) {
    const varied = variedNameToken(token, seq);
    for (const at of offsets) out.write(varied, at, 'latin1');
  }
  return out;
}

/** The 16 hex characters `render` writes for a name token of value `token` in send `seq`. */
export function variedNameToken(token: bigint, seq: bigint): string {
  return (token ^ BigInt.asUintN(64, seq)).toString(16).padStart(16, '0');
}

/** The trace id `render` makes of `id` for send `seq`: what a test or the bench expects to find stored. */
export function variedTraceId(id: Uint8Array, seq: bigint): Uint8Array {
  const out = Buffer.from(id);
  out.writeBigUInt64BE(out.readBigUInt64BE(8) ^ BigInt.asUintN(64, seq), 8);
  return out;
}
