import type pg from 'pg';

/**
 * Runs `work` on a pooled connection. While checked out, a connection that dies between queries
 * emits 'error' on the client, which must be heard (unheard, it crashes the process); it is then
 * released as broken, so the pool drops it.
 */
export async function withPoolClient<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (err: Error): void => void (broken = err);
  client.on('error', onError);
  try {
    return await work(client);
  } catch (err) {
    broken ??= err as Error;
    throw err;
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}
