// Holds otlp-pg's writers inside their transactions for as long as a test wants: a trigger on
// trace_spans waits for an advisory lock the test owns. What is queued, written, committed and answered
// is then decided by what the test does, never by how long something takes (a pg_sleep would be).
import pg from 'pg';
import { query } from './database.js';
import { until } from './poll.js';

const LOCK = 4242;

export interface WriterHold {
  /** Takes the lock: every batch of spans written from now on waits inside its transaction. */
  hold(): Promise<void>;
  /** Lets the waiting batches go on. */
  release(): Promise<void>;
  /** How many connections of otlp-pg's pool (application_name 'otlp-pg') wait for the lock now. */
  waiting(): Promise<number>;
  /** Resolves once `n` writers wait for the lock. */
  blocked(n?: number): Promise<void>;
  /** Lets go, drops the trigger and disconnects. */
  remove(): Promise<void>;
}

/** Installs the trigger on the database at `url` (its schema must exist: otlp-pg has started on it). */
export async function installWriterHold(url: string): Promise<WriterHold> {
  await query(url, `CREATE OR REPLACE FUNCTION wait_for_test() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_advisory_xact_lock_shared(${LOCK}); RETURN NULL; END $$`);
  await query(url, 'CREATE OR REPLACE TRIGGER wait_for_test AFTER INSERT ON trace_spans FOR EACH STATEMENT EXECUTE FUNCTION wait_for_test()');
  const holder = new pg.Client({ connectionString: url });
  // Dropping the test's database ends this session from the server's side; nothing to report then.
  holder.on('error', () => undefined);
  await holder.connect();
  let held = false;
  const waiting = async (): Promise<number> => {
    const [row] = await query<{ n: number }>(
      url,
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'otlp-pg' AND datname = current_database() AND wait_event_type = 'Lock'`,
    );
    return row?.n ?? 0;
  };
  const release = async (): Promise<void> => {
    if (!held) return;
    held = false;
    await holder.query('SELECT pg_advisory_unlock($1)', [LOCK]);
  };
  return {
    hold: async () => {
      if (held) return;
      await holder.query('SELECT pg_advisory_lock($1)', [LOCK]);
      held = true;
    },
    release,
    waiting,
    blocked: (n = 1) => until(async () => (await waiting()) === n, `${n} writer(s) waiting for the test's lock`),
    remove: async () => {
      await release();
      await holder.end();
      await query(url, 'DROP TRIGGER IF EXISTS wait_for_test ON trace_spans');
    },
  };
}
