import { hash } from 'node:crypto';
import type { InstrumentationScope, KeyValue, Resource } from '../decode/types.js';
import type { ResourceRow, ScopeRow } from './types.js';
import { attributesJson, storableString, stringAttribute } from './values.js';

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
