import type pg from 'pg';

/**
 * Records the digests of the batch's requests in `otlp_pg_requests`, in the batch's transaction, and
 * says which requests are new. A request whose digest is already there was committed before (its
 * answer was lost and the client retried): it is acknowledged without writing its rows again. Two
 * writers holding the same new digest at once serialise on its unique key; the second then sees it.
 * Within one batch the first request with a digest claims it. A null key is always new.
 */
export async function claimRequestKeys(client: pg.ClientBase, keys: readonly (Buffer | null)[]): Promise<boolean[]> {
  const present = keys.filter((k): k is Buffer => k !== null);
  if (present.length === 0) return keys.map(() => true);
  const { rows } = await client.query<{ request_key: Buffer }>(
    `INSERT INTO otlp_pg_requests (request_key)
     SELECT DISTINCT k FROM unnest($1::bytea[]) AS k ORDER BY 1
     ON CONFLICT (request_key) DO NOTHING
     RETURNING request_key`,
    [present],
  );
  const fresh = new Set(rows.map((r) => r.request_key.toString('hex')));
  return keys.map((k) => k === null || fresh.delete(k.toString('hex')));
}

/** Forgets digests older than the window: a retry arriving later than that is stored again. */
export async function pruneRequestKeys(client: pg.ClientBase, windowMs: number): Promise<number> {
  const { rowCount } = await client.query(
    `DELETE FROM otlp_pg_requests WHERE received_at < now() - $1::integer * interval '1 millisecond'`,
    [Math.floor(windowMs)],
  );
  return rowCount ?? 0;
}
