-- Trace summaries leave the acknowledgement path.
--
-- Until now each batch upserted one `traces` row per trace it touched, under one advisory lock held
-- until COMMIT: every writer of every process and host waited for every other, and a request of one
-- span each of many traces cost a row update per span. Now a batch only appends: beside its spans it
-- COPYs one row here per request, that request's per-trace partial summaries as parallel arrays, in
-- the same transaction (so nothing a summary needs can be lost: it commits with the spans or not at
-- all). A folder (one process at a time, under an advisory lock; src/write/trace-summaries.ts calls
-- the function below) takes committed parts in large batches, merges them into `traces` and deletes
-- them, in one transaction: a crash at any point leaves either the parts or their effect, never both
-- nor neither.
--
-- Every merge is order-independent, so `traces` is exact once caught up whatever order, split or
-- number of processes the spans came through: start = min, end = max, counts add up; the root is
-- the parentless span with the smallest span_id (a trace normally has one); until a root is seen,
-- service_name is the earliest span's service (ties: the smallest name in byte order).
--
-- Existing data needs no carrying over: the `traces` rows written by the old upsert are already
-- summaries in this sense, and parts folded later merge into them.
--
-- One row per request rather than per trace: a request of 500 one-span traces appends one row, not
-- 500, and the folder deletes one. The table stays small (what arrived since the last fold), so it
-- has no index; it is inserted into and deleted from all day, so autovacuum visits it often.
--
-- How the first service and the root ride in a part: as keys whose minimum in byte order ("C")
-- is the one the rules pick, so that folding is one pass of plain aggregates, no sort:
--   first_key = start_ns as 19 digits, zero-padded (0 ≤ start < 2^63), then the service name;
--   root_key  = the root's span_id as 16 hex digits, its name's length in characters as 10 digits,
--               the name, then the service name; NULL where the request had no root of the trace.
-- write/traces.ts writes them; the fold below reads them.
CREATE TABLE trace_summary_parts (
  committed_at   timestamptz NOT NULL DEFAULT clock_timestamp(), -- when the batch wrote it, just before COMMIT
  trace_ids      bytea[] NOT NULL,
  start_ns       bigint[] NOT NULL,   -- earliest span start per trace
  end_ns         bigint[] NOT NULL,   -- latest span end
  first_keys     text[] NOT NULL,
  root_keys      text[] NOT NULL,
  span_counts    integer[] NOT NULL,
  error_counts   integer[] NOT NULL
) WITH (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_insert_scale_factor = 0,
        autovacuum_vacuum_insert_threshold = 1000);

-- A part of a few hundred traces is several kB, stored out of line: uncompressed, as ids do not
-- compress and compressing costs every insert and fold CPU.
ALTER TABLE trace_summary_parts
  ALTER COLUMN trace_ids SET STORAGE EXTERNAL, ALTER COLUMN start_ns SET STORAGE EXTERNAL,
  ALTER COLUMN end_ns SET STORAGE EXTERNAL, ALTER COLUMN first_keys SET STORAGE EXTERNAL,
  ALTER COLUMN root_keys SET STORAGE EXTERNAL, ALTER COLUMN span_counts SET STORAGE EXTERNAL,
  ALTER COLUMN error_counts SET STORAGE EXTERNAL;

-- Folds up to p_max_parts committed parts into `traces` and deletes them, in the caller's
-- transaction, when no other session is folding (pg_try_advisory_xact_lock on otlp-pg's key
-- LOCK_TRACE_SUMMARY, src/db/locks.ts; another folder means this call returns no row at once).
-- Returns the parts and traces folded and, per part, seconds from its commit to the start of the
-- calling statement (the caller adds the statement's own duration).
--
-- One statement. The folded traces' rows are found in `traces` by one index scan per partition
-- for all their ids at once (trace_id = ANY(sorted ids): the B-tree is walked once, in order, and
-- an empty partition costs nothing), then joined by hash; those not there yet are inserted. Nested
-- loops are kept out: probing each partition once per trace cost more than inserting the row.
CREATE FUNCTION otlp_pg_fold_trace_summaries(p_max_parts integer)
RETURNS TABLE (folded_parts integer, folded_traces integer, lag_seconds double precision[])
LANGUAGE plpgsql SET enable_nestloop = off AS $$
BEGIN
  IF NOT pg_try_advisory_xact_lock(8031163263800573955) THEN
    RETURN;
  END IF;
  RETURN QUERY
  WITH taken AS (
    DELETE FROM trace_summary_parts
    WHERE ctid = ANY (ARRAY(SELECT p.ctid FROM trace_summary_parts p LIMIT p_max_parts))
    RETURNING *
  ), keyed AS (
    SELECT u.trace_id, min(u.start_ns) AS start_ns, max(u.end_ns) AS end_ns, min(u.first_key COLLATE "C") AS first_key,
           min(u.root_key COLLATE "C") AS root_key, sum(u.span_count)::integer AS span_count,
           sum(u.error_count)::integer AS error_count
    FROM taken, unnest(taken.trace_ids, taken.start_ns, taken.end_ns, taken.first_keys, taken.root_keys,
                       taken.span_counts, taken.error_counts)
      AS u(trace_id, start_ns, end_ns, first_key, root_key, span_count, error_count)
    GROUP BY u.trace_id
  ), b AS (
    SELECT k.trace_id, k.start_ns, k.end_ns, k.span_count, k.error_count, substr(k.first_key, 20) AS first_service,
           decode(substr(k.root_key, 1, 16), 'hex') AS root_span_id,
           substr(k.root_key, 27, substr(k.root_key, 17, 10)::integer) AS root_name,
           substr(k.root_key, 27 + substr(k.root_key, 17, 10)::integer) AS root_service
    FROM keyed k
  ), ids AS (
    SELECT array_agg(keyed.trace_id ORDER BY keyed.trace_id) AS ids FROM keyed
  ), upd AS (
    UPDATE traces t SET
      start_time = CASE WHEN b.start_ns < t.start_time_unix_nano
                        THEN timestamptz 'epoch' + (b.start_ns / 1000) * interval '1 microsecond'
                        ELSE t.start_time END,
      start_time_unix_nano = least(t.start_time_unix_nano, b.start_ns),
      end_time_unix_nano = greatest(t.end_time_unix_nano, b.end_ns),
      duration_ns = greatest(t.end_time_unix_nano, b.end_ns) - least(t.start_time_unix_nano, b.start_ns),
      service_name = CASE
        WHEN b.root_span_id IS NOT NULL AND (t.root_span_id IS NULL OR b.root_span_id < t.root_span_id) THEN b.root_service
        WHEN t.root_span_id IS NOT NULL THEN t.service_name
        WHEN b.start_ns < t.start_time_unix_nano
          OR (b.start_ns = t.start_time_unix_nano AND b.first_service COLLATE "C" < t.service_name COLLATE "C") THEN b.first_service
        ELSE t.service_name END,
      root_span_name = CASE WHEN b.root_span_id IS NOT NULL AND (t.root_span_id IS NULL OR b.root_span_id < t.root_span_id)
                            THEN b.root_name ELSE t.root_span_name END,
      root_span_id = CASE WHEN b.root_span_id IS NOT NULL AND (t.root_span_id IS NULL OR b.root_span_id < t.root_span_id)
                          THEN b.root_span_id ELSE t.root_span_id END,
      span_count = t.span_count + b.span_count,
      error_count = t.error_count + b.error_count
    FROM b WHERE t.trace_id = ANY ((SELECT ids.ids FROM ids)::bytea[]) AND t.trace_id = b.trace_id
    RETURNING t.trace_id
  ), ins AS (
    INSERT INTO traces (start_time, trace_id, start_time_unix_nano, end_time_unix_nano, duration_ns, service_name,
                        root_span_id, root_span_name, span_count, error_count)
    SELECT timestamptz 'epoch' + (b.start_ns / 1000) * interval '1 microsecond', b.trace_id, b.start_ns, b.end_ns,
           b.end_ns - b.start_ns, coalesce(b.root_service, b.first_service), b.root_span_id, b.root_name,
           b.span_count, b.error_count
    FROM b WHERE NOT EXISTS (SELECT 1 FROM upd WHERE upd.trace_id = b.trace_id)
  )
  SELECT (SELECT count(*) FROM taken)::integer, (SELECT count(*) FROM keyed)::integer,
         ARRAY(SELECT extract(epoch FROM statement_timestamp() - taken.committed_at)::double precision FROM taken);
END;
$$;
