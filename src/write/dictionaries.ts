import type pg from 'pg';
import type { ResourceRow, ScopeRow } from '../map/types.js';

/**
 * Ids of resources and scopes known to be committed, so each is inserted once per process rather
 * than once per batch. Bounded: past `capacity` it starts over (the cost is one redundant
 * `ON CONFLICT DO NOTHING` per id).
 */
export class KnownIds {
  private ids = new Set<bigint>();
  constructor(private readonly capacity = 100_000) {}

  has(id: bigint): boolean {
    return this.ids.has(id);
  }

  addAll(ids: Iterable<bigint>): void {
    for (const id of ids) {
      if (this.ids.size >= this.capacity) this.ids = new Set();
      this.ids.add(id);
    }
  }
}

/**
 * Inserts the rows whose ids are not known yet, sorted by id so that concurrent writers take
 * row locks in the same order (no deadlock). Returns the ids to mark known after COMMIT.
 */
export async function insertResources(client: pg.ClientBase, rows: Iterable<ResourceRow>, known: KnownIds): Promise<bigint[]> {
  const fresh = unique(rows, (r) => r.resourceId, known);
  if (fresh.length === 0) return [];
  await client.query(
    `INSERT INTO resources (resource_id, service_name, attributes, dropped_attributes_count, schema_url)
     SELECT * FROM unnest($1::bigint[], $2::text[], $3::jsonb[], $4::bigint[], $5::text[]) ORDER BY 1
     ON CONFLICT (resource_id) DO NOTHING`,
    [
      fresh.map((r) => r.resourceId.toString()),
      fresh.map((r) => r.serviceName),
      fresh.map((r) => r.attributes),
      fresh.map((r) => r.droppedAttributesCount),
      fresh.map((r) => r.schemaUrl),
    ],
  );
  return fresh.map((r) => r.resourceId);
}

export async function insertScopes(client: pg.ClientBase, rows: Iterable<ScopeRow>, known: KnownIds): Promise<bigint[]> {
  const fresh = unique(rows, (r) => r.scopeId, known);
  if (fresh.length === 0) return [];
  await client.query(
    `INSERT INTO scopes (scope_id, name, version, attributes, dropped_attributes_count, schema_url)
     SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::jsonb[], $5::bigint[], $6::text[]) ORDER BY 1
     ON CONFLICT (scope_id) DO NOTHING`,
    [
      fresh.map((r) => r.scopeId.toString()),
      fresh.map((r) => r.name),
      fresh.map((r) => r.version),
      fresh.map((r) => r.attributes),
      fresh.map((r) => r.droppedAttributesCount),
      fresh.map((r) => r.schemaUrl),
    ],
  );
  return fresh.map((r) => r.scopeId);
}

/** Resources and scopes of a batch of any signal, the new ones inserted. */
export async function insertDictionaries(
  client: pg.ClientBase,
  batch: readonly { readonly resources: readonly ResourceRow[]; readonly scopes: readonly ScopeRow[] }[],
  known: KnownIds,
): Promise<bigint[]> {
  return [
    ...(await insertResources(client, batch.flatMap((r) => r.resources), known)),
    ...(await insertScopes(client, batch.flatMap((r) => r.scopes), known)),
  ];
}

function unique<R>(rows: Iterable<R>, id: (r: R) => bigint, known: KnownIds): R[] {
  const byId = new Map<bigint, R>();
  for (const r of rows) if (!known.has(id(r))) byId.set(id(r), r);
  return [...byId.values()];
}
