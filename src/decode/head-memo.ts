import type { InstrumentationScope, Resource } from './types.js';

/** A message longer than this is walked every time: resources and scopes are a few hundred bytes. */
const MAX_MESSAGE_BYTES = 16 * 1024;

/** What the memo holds, by message. */
export interface Heads {
  readonly resource: Resource;
  readonly scope: InstrumentationScope;
}

/**
 * Resource and InstrumentationScope messages decoded lately, by their bytes. A sender repeats its
 * resource and scopes on every request, and a Collector batching a fleet carries hundreds of them
 * in each: a message byte for byte the same as one held here decodes to the held object, unwalked
 * (the same bytes decode to the same value), and map/ keeps what it derives from that object beside
 * it (map/dictionary.ts), so a repeated resource costs one lookup instead of a walk, a sort, its
 * JSON and a hash. The objects are shared between requests and never modified.
 *
 * Bounded by the bytes of the messages it holds: past `maxBytes` it starts over, which costs the
 * next requests one walk per message, never a wrong value.
 */
export class HeadMemo {
  private held: { [K in keyof Heads]: Map<string, Heads[K]> } = { resource: new Map(), scope: new Map() };
  private bytes = 0;

  constructor(private readonly maxBytes = 2 * 1024 * 1024) {}

  /** Whether a message of `length` bytes is held at all. */
  static fits(length: number): boolean {
    return length <= MAX_MESSAGE_BYTES;
  }

  get<K extends keyof Heads>(kind: K, key: string): Heads[K] | undefined {
    return this.held[kind].get(key) as Heads[K] | undefined;
  }

  remember<K extends keyof Heads>(kind: K, key: string, value: Heads[K]): void {
    this.bytes += key.length;
    if (this.bytes > this.maxBytes) {
      this.held = { resource: new Map(), scope: new Map() };
      this.bytes = key.length;
    }
    (this.held[kind] as Map<string, Heads[K]>).set(key, value);
  }

  /** Messages held. */
  get size(): number {
    return this.held.resource.size + this.held.scope.size;
  }
}
