// Advisory lock keys otlp-pg takes, in one place so no two uses collide.
// The high 32 bits spell "otlp" so they are unlikely to meet another application's keys.
const NS = 0x6f746c70n << 32n;

export const LOCK_MIGRATE = String(NS | 1n);
export const LOCK_PARTITIONS = String(NS | 2n);
/**
 * One trace summary folder at a time across processes and hosts; written out as a literal in
 * migrations/0005_trace_summary_parts.sql, which takes it (a test checks the two agree).
 */
export const LOCK_TRACE_SUMMARY = String(NS | 3n);
