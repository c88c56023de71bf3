-- Retention and the DEFAULT partitions (see src/db/retention.ts, which calls these under the
-- partition advisory lock, one parent table per transaction).
--
-- Retention drops whole daily partitions: no DELETE on the row tables, no bloat, no vacuum debt.
-- Rows whose timestamp had no partition when they arrived (skewed clocks, late data) sit in the
-- DEFAULT partition; these functions count them, delete those past retention (DELETE from a
-- *_default partition only, which stays small), and move a day's rows out of DEFAULT into the day's
-- own partition, which otherwise could never be created (otlp_pg_ensure_partitions reports it
-- `blocked`) and would leave all of that day's data in DEFAULT.

-- Indexes on the DEFAULT partitions only, by time: the counts, the deletes and the moves below, and
-- queries whose range reaches DEFAULT, find their rows without scanning it. They cost nothing on the
-- daily partitions, where every row normally goes.
CREATE INDEX trace_spans_default_time_idx ON trace_spans_default (start_time);
CREATE INDEX traces_default_time_idx ON traces_default (start_time);
CREATE INDEX logs_default_time_idx ON logs_default ("timestamp");
CREATE INDEX metric_data_points_default_time_idx ON metric_data_points_default ("time");

-- The partitions of a range-partitioned table with their bounds, read from the catalog (so that
-- partitions made by hand count too). A bound of MINVALUE or MAXVALUE comes back NULL.
-- DateStyle is pinned so that the bounds print, and parse back, the same whatever the session's.
CREATE FUNCTION otlp_pg_partitions(p_parent regclass)
RETURNS TABLE (partition_name regclass, lower_bound timestamptz, upper_bound timestamptz, is_default boolean)
LANGUAGE sql STABLE SET datestyle = 'ISO, YMD' AS $$
  SELECT c.oid::regclass,
         (regexp_match(b.expr, $re$FROM \('([^']*)'\)$re$))[1]::timestamptz,
         (regexp_match(b.expr, $re$TO \('([^']*)'\)$re$))[1]::timestamptz,
         b.expr = 'DEFAULT'
  FROM pg_inherits i
  JOIN pg_class c ON c.oid = i.inhrelid
  CROSS JOIN LATERAL (SELECT pg_get_expr(c.relpartbound, c.oid) AS expr) b
  WHERE i.inhparent = p_parent
$$;

-- The partition key column and DEFAULT partition of a table partitioned by one column.
CREATE FUNCTION otlp_pg_partition_key(p_parent regclass, OUT key_column name, OUT default_partition regclass)
LANGUAGE sql STABLE AS $$
  SELECT a.attname, nullif(pt.partdefid, 0)::regclass
  FROM pg_partitioned_table pt
  JOIN pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = pt.partattrs[0]
  WHERE pt.partrelid = p_parent
$$;

-- Drops every partition whose whole range ends at or before p_before, and returns their names.
-- DROP TABLE of a partition takes an ACCESS EXCLUSIVE lock on the parent (briefly: catalog work
-- only); the caller sets lock_timeout so that a busy table defers retention rather than stalling
-- ingest. One call per parent: the parent's lock is waited for once.
CREATE FUNCTION otlp_pg_drop_partitions_before(p_parent regclass, p_before timestamptz)
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  part text;
BEGIN
  -- Names are taken as text before the drop: a dropped table's regclass prints as a bare oid.
  FOR part IN
    SELECT partition_name::text FROM otlp_pg_partitions(p_parent)
    WHERE NOT is_default AND upper_bound <= p_before
    ORDER BY upper_bound
  LOOP
    EXECUTE format('DROP TABLE %s', part);
    RETURN NEXT part;
  END LOOP;
END;
$$;

-- Deletes the rows of the DEFAULT partition older than p_before; returns how many. The row tables'
-- daily partitions are never DELETEd from; DEFAULT holds only what fell outside them.
CREATE FUNCTION otlp_pg_delete_default_rows_before(p_parent regclass, p_before timestamptz)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  k record;
  n bigint;
BEGIN
  SELECT * INTO k FROM otlp_pg_partition_key(p_parent);
  IF k.default_partition IS NULL THEN
    RETURN 0;
  END IF;
  EXECUTE format('DELETE FROM %s WHERE %I < $1', k.default_partition, k.key_column) USING p_before;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END;
$$;

-- What the DEFAULT partition holds: its rows counted up to p_cap (a bounded count, cheap however
-- large it grew; `rows` = p_cap means at least that many) and the oldest and newest timestamps.
CREATE FUNCTION otlp_pg_default_rows(p_parent regclass, p_cap bigint)
RETURNS TABLE (partition_name text, rows bigint, oldest timestamptz, newest timestamptz)
LANGUAGE plpgsql STABLE AS $$
DECLARE
  k record;
BEGIN
  SELECT * INTO k FROM otlp_pg_partition_key(p_parent);
  IF k.default_partition IS NULL THEN
    RETURN;
  END IF;
  RETURN QUERY EXECUTE format(
    'SELECT %L::text, (SELECT count(*) FROM (SELECT 1 FROM %s LIMIT $1) s), min(%I), max(%I) FROM %s',
    k.default_partition, k.default_partition, k.key_column, k.key_column, k.default_partition)
  USING p_cap;
END;
$$;

-- Gives p_day its daily partition (named and bounded as otlp_pg_ensure_partitions does) when its
-- rows already sit in DEFAULT, where CREATE TABLE … PARTITION OF fails. In one transaction:
-- the table is made standalone with a CHECK matching the bound, the day's rows are moved into it
-- with DELETE … RETURNING, and it is attached; the CHECK lets ATTACH skip scanning it and is then
-- dropped. Readers see the rows in DEFAULT until COMMIT and in the new partition after it, never
-- both nor neither. Returns the rows moved, or NULL when the partition already exists.
--
-- Locks: ACCESS EXCLUSIVE on the parent, as CREATE TABLE … PARTITION OF takes: reads and writes of
-- that table wait for the move (milliseconds for the few rows skewed clocks leave; the caller's
-- lock_timeout bounds the wait for the lock). ATTACH alone would need less, but then a COPY begun
-- before the ATTACH could route a row of that day into DEFAULT after it (PostgreSQL refuses that
-- row: partition constraint violated), and a query planned before it could miss the moved rows.
CREATE FUNCTION otlp_pg_move_default_rows(p_parent regclass, p_day date)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  k record;
  schema_name name;
  parent_name name;
  part text;
  check_name text;
  lo text := p_day::text || ' 00:00:00+00';
  hi text := (p_day + 1)::text || ' 00:00:00+00';
  cols text;
  moved bigint;
BEGIN
  SELECT * INTO k FROM otlp_pg_partition_key(p_parent);
  IF k.default_partition IS NULL THEN
    RAISE EXCEPTION '% has no DEFAULT partition', p_parent;
  END IF;
  SELECT ns.nspname, c.relname INTO schema_name, parent_name
  FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace WHERE c.oid = p_parent;
  part := format('%s_p%s', parent_name, to_char(p_day, 'YYYYMMDD'));
  check_name := part || '_bound';

  EXECUTE format('LOCK TABLE ONLY %s IN ACCESS EXCLUSIVE MODE', p_parent);
  -- Checked under the lock: a concurrent call may have made it while this one waited.
  IF EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace
             WHERE c.relname = part AND ns.nspname = schema_name) THEN
    RETURN NULL;
  END IF;

  SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum) INTO cols
  FROM pg_attribute a WHERE a.attrelid = p_parent AND a.attnum > 0 AND NOT a.attisdropped;

  EXECUTE format('CREATE TABLE %I.%I (LIKE %s INCLUDING DEFAULTS INCLUDING STORAGE INCLUDING COMPRESSION,'
                 ' CONSTRAINT %I CHECK (%I >= %L AND %I < %L))',
                 schema_name, part, p_parent, check_name, k.key_column, lo, k.key_column, hi);
  EXECUTE format('WITH moved AS (DELETE FROM %s WHERE %I >= %L AND %I < %L RETURNING %s)'
                 ' INSERT INTO %I.%I (%s) SELECT %s FROM moved',
                 k.default_partition, k.key_column, lo, k.key_column, hi, cols, schema_name, part, cols, cols);
  GET DIAGNOSTICS moved = ROW_COUNT;
  -- The parent's indexes are built on the new partition here, after its rows are in.
  EXECUTE format('ALTER TABLE %s ATTACH PARTITION %I.%I FOR VALUES FROM (%L) TO (%L)',
                 p_parent, schema_name, part, lo, hi);
  EXECUTE format('ALTER TABLE %I.%I DROP CONSTRAINT %I', schema_name, part, check_name);
  RETURN moved;
END;
$$;
