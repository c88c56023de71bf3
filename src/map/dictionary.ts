import { hash } from 'node:crypto';
import type { InstrumentationScope, KeyValue, Resource } from '../decode/types.js';
import type { ResourceRow, ScopeRow } from './types.js';
import { addReplaced, attributesJson, storableString, stringAttribute, takeReplaced } from './values.js';

// Resources and scopes repeat on every request; they are stored once, keyed by a 64-bit hash of
// their canonical content (attributes sorted by key, dropped count, schema URL). 64 bits make an
// accidental collision unlikely below billions of distinct resources.

/** service_name is a column users filter and index on; a btree row cannot exceed ~2.7 kB. */
export const SERVICE_NAME_MAX = 256;

function sortedByKey(kvs: readonly KeyValue[]): readonly KeyValue[] {
  for (let i = 1; i < kvs.length; i++) {
    if ((kvs[i - 1] as KeyValue).key > (kvs[i] as KeyValue).key) {
      // Stable sort keeps duplicate keys in wire order, so jsonb still keeps the last one.
      return [...kvs].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    }
  }
  return kvs;
}

/** The first `max` UTF-16 code units, not cutting a surrogate pair in two. */
function clip(s: string, max: number): string {
  if (s.length <= max) return s;
  const code = s.charCodeAt(max - 1);
  return s.slice(0, code >= 0xd800 && code <= 0xdbff ? max - 1 : max);
}

export function hashId(canonical: string): bigint {
  // The one-shot hash: the same digest as createHash().update().digest(), without the Hash object
  // (a third less CPU per id; a request of new metric streams hashes one per stream).
  return hash('sha256', canonical, 'buffer').readBigInt64BE(0);
}

export function resourceRow(resource: Resource | undefined, schemaUrl: string): ResourceRow {
  const kvs = resource?.attributes ?? [];
  const attributes = attributesJson(sortedByKey(kvs));
  const dropped = resource?.droppedAttributesCount ?? 0;
  const url = storableString(schemaUrl);
  const service = clip(stringAttribute(kvs, 'service.name') ?? '', SERVICE_NAME_MAX);
  return {
    resourceId: hashId(`r\u0001${attributes}\u0001${dropped}\u0001${url}`),
    serviceName: storableString(service),
    attributes,
    droppedAttributesCount: dropped,
    schemaUrl: url,
  };
}

export function scopeRow(scope: InstrumentationScope | undefined, schemaUrl: string): ScopeRow {
  const attributes = attributesJson(sortedByKey(scope?.attributes ?? []));
  const name = storableString(scope?.name ?? '');
  const version = storableString(scope?.version ?? '');
  const dropped = scope?.droppedAttributesCount ?? 0;
  const url = storableString(schemaUrl);
  return {
    scopeId: hashId(`s\u0001${JSON.stringify([name, version])}\u0001${attributes}\u0001${dropped}\u0001${url}`),
    name,
    version,
    attributes,
    droppedAttributesCount: dropped,
    schemaUrl: url,
  };
}

/** Where map/ gets the rows of a request's resources and scopes. */
export interface Dictionary {
  resource(resource: Resource | undefined, schemaUrl: string): ResourceRow;
  scope(scope: InstrumentationScope | undefined, schemaUrl: string): ScopeRow;
}

/** Every row made afresh: what a map function does given no memo. */
export const FRESH: Dictionary = { resource: resourceRow, scope: scopeRow };

interface Made<R> {
  readonly schemaUrl: string;
  readonly row: R;
  /** Strings storableString changed in making it, counted again each time the row is handed out. */
  readonly replaced: number;
}

/**
 * The rows made from the resources and scopes decode/ handed out more than once (the same object:
 * decode/head-memo.ts), kept beside the object, so a sender's resource repeated on every request
 * is sorted, serialized and hashed once. Entries go when decode/ lets go of their object.
 */
export class DictionaryMemo implements Dictionary {
  private readonly resources = new WeakMap<Resource, Made<ResourceRow>>();
  private readonly scopes = new WeakMap<InstrumentationScope, Made<ScopeRow>>();

  resource(resource: Resource | undefined, schemaUrl: string): ResourceRow {
    return resource === undefined ? resourceRow(undefined, schemaUrl) : made(this.resources, resource, schemaUrl, resourceRow);
  }

  scope(scope: InstrumentationScope | undefined, schemaUrl: string): ScopeRow {
    return scope === undefined ? scopeRow(undefined, schemaUrl) : made(this.scopes, scope, schemaUrl, scopeRow);
  }
}

/** The row `make` made from `key` under `schemaUrl`, made now or handed out again. */
function made<K extends object, R>(memo: WeakMap<K, Made<R>>, key: K, schemaUrl: string, make: (key: K, schemaUrl: string) => R): R {
  const known = memo.get(key);
  if (known !== undefined && known.schemaUrl === schemaUrl) {
    addReplaced(known.replaced);
    return known.row;
  }
  const before = takeReplaced();
  const row = make(key, schemaUrl);
  const replaced = takeReplaced();
  addReplaced(before + replaced);
  memo.set(key, { schemaUrl, row, replaced });
  return row;
}
