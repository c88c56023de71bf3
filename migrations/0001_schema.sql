-- otlp-pg schema, version 1: all three signals.
--
-- Conventions (see README "Schema"):
--   * *_unix_nano bigint columns keep OTLP's exact nanoseconds; the timestamptz column next to them
--     (microseconds) is what queries filter on and what the table is partitioned by.
--   * attributes are jsonb keeping native types: strings, booleans, ints (exact, no decimal point) and
--     doubles (always written with a decimal point, so 1.0 stays a double), arrays, nested kvlists as
--     objects; values JSON cannot hold are tagged objects {"$bytes": base64} and
--     {"$double": "NaN" | "Infinity" | "-Infinity" | "-0"}.
--   * resources and scopes repeat on every row on the wire; here each is stored once, keyed by a
--     hash of its canonical content, and rows carry its id (and service_name, which users filter on).
--   * row tables are range-partitioned by day, with a DEFAULT partition so that no timestamp can fail
--     a batch; retention drops whole partitions.
--   * no foreign keys and no unique keys across rows: every index costs ingest, and each index on a
--     row table leads with its distribution column (trace_id, metric_id, service_name) so the schema
--     stays ready for Citus.

CREATE TABLE resources (
  resource_id              bigint PRIMARY KEY,
  service_name             text NOT NULL,
  attributes               jsonb NOT NULL,
  dropped_attributes_count integer NOT NULL DEFAULT 0,
  schema_url               text NOT NULL DEFAULT '',
  first_seen               timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE scopes (
  scope_id                 bigint PRIMARY KEY,
  name                     text NOT NULL,
  version                  text NOT NULL,
  attributes               jsonb NOT NULL,
  dropped_attributes_count integer NOT NULL DEFAULT 0,
  schema_url               text NOT NULL DEFAULT '',
  first_seen               timestamptz NOT NULL DEFAULT now()
);

-- One row per span.
CREATE TABLE trace_spans (
  start_time               timestamptz NOT NULL,
  trace_id                 bytea NOT NULL,
  span_id                  bytea NOT NULL,
  parent_span_id           bytea,
  trace_state              text NOT NULL DEFAULT '',
  flags                    bigint NOT NULL DEFAULT 0,
  name                     text NOT NULL,
  kind                     integer NOT NULL,
  start_time_unix_nano     bigint NOT NULL,
  end_time_unix_nano       bigint NOT NULL,
  duration_ns              bigint NOT NULL,
  status_code              integer NOT NULL DEFAULT 0,
  status_message           text NOT NULL DEFAULT '',
  attributes               jsonb NOT NULL,
  dropped_attributes_count integer NOT NULL DEFAULT 0,
  -- [{"time_unix_nano": "…", "name": …, "attributes": {…}, "dropped_attributes_count": n}]
  events                   jsonb NOT NULL,
  dropped_events_count     integer NOT NULL DEFAULT 0,
  -- [{"trace_id": hex, "span_id": hex, "trace_state": …, "flags": n, "attributes": {…}, "dropped_attributes_count": n}]
  links                    jsonb NOT NULL,
  dropped_links_count      integer NOT NULL DEFAULT 0,
  service_name             text NOT NULL,
  resource_id              bigint NOT NULL,
  scope_id                 bigint NOT NULL
) PARTITION BY RANGE (start_time);

CREATE INDEX trace_spans_trace_id_idx ON trace_spans (trace_id);

-- One row per trace, kept current as its spans arrive (one update per batch per trace).
-- service_name is the root span's service once the root is seen, until then the earliest span's.
CREATE TABLE traces (
  start_time               timestamptz NOT NULL,
  trace_id                 bytea NOT NULL,
  start_time_unix_nano     bigint NOT NULL,
  end_time_unix_nano       bigint NOT NULL,
  duration_ns              bigint NOT NULL,
  service_name             text NOT NULL,
  root_span_id             bytea,
  root_span_name           text,
  span_count               integer NOT NULL,
  error_count              integer NOT NULL
) PARTITION BY RANGE (start_time);

CREATE INDEX traces_trace_id_idx ON traces (trace_id);
CREATE INDEX traces_service_recent_idx ON traces (service_name, start_time DESC);
CREATE INDEX traces_errors_idx ON traces (start_time DESC) WHERE error_count > 0;

CREATE TABLE logs (
  "timestamp"              timestamptz NOT NULL, -- time_unix_nano, or observed time when that is 0
  time_unix_nano           bigint NOT NULL,
  observed_time_unix_nano  bigint NOT NULL,
  severity_number          integer NOT NULL DEFAULT 0,
  severity_text            text NOT NULL DEFAULT '',
  body                     jsonb, -- AnyValue, typed as attributes are; NULL when absent
  attributes               jsonb NOT NULL,
  dropped_attributes_count integer NOT NULL DEFAULT 0,
  flags                    bigint NOT NULL DEFAULT 0,
  trace_id                 bytea, -- NULL when absent or invalid
  span_id                  bytea,
  event_name               text NOT NULL DEFAULT '',
  service_name             text NOT NULL,
  resource_id              bigint NOT NULL,
  scope_id                 bigint NOT NULL
) PARTITION BY RANGE ("timestamp");

CREATE INDEX logs_trace_id_idx ON logs (trace_id) WHERE trace_id IS NOT NULL;
CREATE INDEX logs_service_recent_idx ON logs (service_name, "timestamp" DESC);

-- One row per metric stream identity; metric_id is a hash of all of these columns but first_seen.
CREATE TABLE metrics (
  metric_id                bigint PRIMARY KEY,
  name                     text NOT NULL,
  description              text NOT NULL DEFAULT '',
  unit                     text NOT NULL DEFAULT '',
  type                     text NOT NULL, -- gauge | sum | histogram | exponential_histogram | summary | empty
  aggregation_temporality  integer NOT NULL DEFAULT 0,
  is_monotonic             boolean NOT NULL DEFAULT false,
  metadata                 jsonb NOT NULL,
  service_name             text NOT NULL,
  resource_id              bigint NOT NULL,
  scope_id                 bigint NOT NULL,
  first_seen               timestamptz NOT NULL DEFAULT now()
);

-- Every point type in one table; the columns a type does not use are NULL.
CREATE TABLE metric_data_points (
  "time"                   timestamptz NOT NULL,
  metric_id                bigint NOT NULL,
  time_unix_nano           bigint NOT NULL,
  start_time_unix_nano     bigint NOT NULL,
  attributes               jsonb NOT NULL,
  flags                    bigint NOT NULL DEFAULT 0,
  value_double             double precision, -- gauge/sum as_double
  value_int                bigint,           -- gauge/sum as_int
  count                    bigint,           -- histogram, exponential histogram, summary
  sum                      double precision,
  min                      double precision,
  max                      double precision,
  bucket_counts            bigint[],
  explicit_bounds          double precision[],
  scale                    integer,
  zero_count               bigint,
  zero_threshold           double precision,
  positive_offset          integer,
  positive_bucket_counts   bigint[],
  negative_offset          integer,
  negative_bucket_counts   bigint[],
  quantile_values          jsonb, -- [{"quantile": q, "value": v}]
  exemplars                jsonb, -- [{"time_unix_nano": "…", "value": n, "filtered_attributes": {…}, "trace_id": hex, "span_id": hex}]
  service_name             text NOT NULL
) PARTITION BY RANGE ("time");

CREATE INDEX metric_data_points_series_idx ON metric_data_points (metric_id, "time" DESC);

CREATE TABLE trace_spans_default PARTITION OF trace_spans DEFAULT;
CREATE TABLE traces_default PARTITION OF traces DEFAULT;
CREATE TABLE logs_default PARTITION OF logs DEFAULT;
CREATE TABLE metric_data_points_default PARTITION OF metric_data_points DEFAULT;

-- Creates the daily partitions of every row table from p_from to p_to (inclusive) that do not exist
-- yet. Callers hold the otlp-pg maintenance advisory lock, so concurrent processes never race on DDL.
-- A day whose rows already sit in the DEFAULT partition (clock skew) is skipped and reported, since
-- attaching it would fail; retention handles those rows.
CREATE FUNCTION otlp_pg_ensure_partitions(p_from date, p_to date)
RETURNS TABLE (partition_name text, created boolean) LANGUAGE plpgsql AS $$
DECLARE
  parent text;
  day date;
  part text;
BEGIN
  FOREACH parent IN ARRAY ARRAY['trace_spans', 'traces', 'logs', 'metric_data_points'] LOOP
    day := p_from;
    WHILE day <= p_to LOOP
      part := format('%s_p%s', parent, to_char(day, 'YYYYMMDD'));
      IF to_regclass(part) IS NULL THEN
        BEGIN
          EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                         part, parent, day::text || ' 00:00:00+00', (day + 1)::text || ' 00:00:00+00');
          partition_name := part; created := true; RETURN NEXT;
        EXCEPTION WHEN check_violation THEN
          partition_name := part; created := false; RETURN NEXT;
        END;
      END IF;
      day := day + 1;
    END LOOP;
  END LOOP;
END;
$$;
