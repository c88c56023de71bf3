// Deterministic randomness for the generated telemetry: the same seed builds the same requests,
// so two load runs (or a bench and its rerun) send comparable data.

/** mulberry32: a small, fast 32-bit PRNG; plenty for test data, not for anything secret. */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(values: readonly T[]): T {
    return values[Math.floor(this.next() * values.length)] as T;
  }

  /** Lowercase letters and digits, `length` of them. */
  text(length: number): string {
    const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
    let s = '';
    for (let i = 0; i < length; i++) s += alphabet[Math.floor(this.next() * alphabet.length)];
    return s;
  }

  /** `bytes` random bytes as lowercase hex, never all zero (an invalid OTLP id). */
  hex(bytes: number): string {
    for (;;) {
      let s = '';
      for (let i = 0; i < bytes; i++) s += this.int(0, 255).toString(16).padStart(2, '0');
      if (/[^0]/.test(s)) return s;
    }
  }
}

/** Service names; the first is the one the README's example queries ask about. */
const SERVICE_NAMES = ['checkout', 'cart', 'payment', 'frontend', 'inventory', 'shipping', 'auth', 'search', 'recommendation', 'email'];

export function serviceName(index: number): string {
  return SERVICE_NAMES[index] ?? `service-${index + 1}`;
}
