// Resources and scopes are stored once (README "Schema") and rows refer to them by id; the export
// reads each one once, renders it to OTLP/JSON once, and joins it to rows in memory. A JOIN in the
// row query would instead repeat the resource's attributes on every row fetched.
import type pg from 'pg';
import type { TextRow } from './cursor.js';
import { int32Of, objectText, optInt, optList, optString } from './json-text.js';
import { attributesText } from './values.js';

/** A resource or scope rendered: its OTLP/JSON message, and the schema URL of its Resource*, Scope* wrapper. */
export interface Rendered {
  readonly id: string;
  readonly json: string;
  readonly schemaUrl: string;
}

/** Past this many entries a cache starts over; a chunk of rows never refers to more than it fetches. */
const CACHE_ENTRIES = 10_000;

export function resourceJson(row: TextRow): string {
  return objectText({
    attributes: optList(attributesText(row.attributes ?? '{}')),
    droppedAttributesCount: optInt(int32Of(row.dropped_attributes_count)),
  });
}

export function scopeJson(row: TextRow): string {
  return objectText({
    name: optString(row.name ?? ''),
    version: optString(row.version ?? ''),
    attributes: optList(attributesText(row.attributes ?? '{}')),
    droppedAttributesCount: optInt(int32Of(row.dropped_attributes_count)),
  });
}

/**
 * Rendered rows of one table by id, cached, fetched in one query per chunk for the ids not cached.
 * `sql` selects the rows whose id is in the bigint[] $1.
 */
export class RenderedCache<T extends { readonly id: string }> {
  private cache = new Map<string, T>();

  constructor(
    private readonly table: string,
    private readonly sql: string,
    private readonly render: (row: TextRow) => T,
  ) {}

  /**
   * A lookup for `ids` (all fetched now, so the lookup is synchronous). An id with no row is a broken
   * reference, which fails the export rather than write items without their resource or scope.
   */
  async lookup(client: pg.Client, ids: Iterable<string | null>): Promise<(id: string | null) => T> {
    const out = new Map<string, T>();
    const missing = new Set<string>();
    for (const id of ids) {
      if (id === null || out.has(id)) continue;
      const hit = this.cache.get(id);
      if (hit) out.set(id, hit);
      else missing.add(id);
    }
    if (missing.size > 0) {
      const { rows } = await client.query<TextRow>(this.sql, [[...missing]]);
      if (this.cache.size + rows.length > CACHE_ENTRIES) this.cache = new Map();
      for (const row of rows) {
        const entry = this.render(row);
        this.cache.set(entry.id, entry);
        out.set(entry.id, entry);
      }
      const lost = [...missing].filter((id) => !out.has(id));
      if (lost.length > 0) throw new Error(`stored rows refer to ${this.table} not found in that table (ids ${lost.slice(0, 5).join(', ')})`);
    }
    return (id) => {
      const entry = id === null ? undefined : out.get(id);
      if (!entry) throw new Error(`a stored row has no ${this.table} id`);
      return entry;
    };
  }
}

export function resourceCache(): RenderedCache<Rendered> {
  return new RenderedCache(
    'resources',
    `SELECT resource_id, attributes::text AS attributes, dropped_attributes_count, schema_url
       FROM resources WHERE resource_id = ANY($1::bigint[])`,
    (row) => ({ id: row.resource_id ?? '', json: resourceJson(row), schemaUrl: row.schema_url ?? '' }),
  );
}

export function scopeCache(): RenderedCache<Rendered> {
  return new RenderedCache(
    'scopes',
    `SELECT scope_id, name, version, attributes::text AS attributes, dropped_attributes_count, schema_url
       FROM scopes WHERE scope_id = ANY($1::bigint[])`,
    (row) => ({ id: row.scope_id ?? '', json: scopeJson(row), schemaUrl: row.schema_url ?? '' }),
  );
}
