-- Views and functions for the common questions (docs/cookbook.md shows them in use).
--
-- Each question comes twice: a function over a time range you choose (`…_between`, `…_since`),
-- and a view over the last hour built on it. The functions are single-statement SQL functions,
-- which PostgreSQL inlines into the calling query: the range becomes a condition on the
-- partitioning column, so only the partitions it touches are read. (A view grouped by minute could
-- not do that: a filter on the minute column does not prune partitions.)
--
-- Citus: every query here is a plain aggregate or a join on trace_id / metric_id, the distribution
-- columns, so each runs on the workers and only the groups come back; percentile_cont is the
-- exception (Citus gathers its rows on the coordinator; the tdigest extension avoids that).

-- RED per service: rate, errors and duration percentiles per time bucket.
-- Counted spans are a service's entry spans: SERVER and CONSUMER spans (kind 2 and 5: a request
-- or a message it handled) and root spans of any kind (a job, a CLI, or a service instrumented
-- without a server span). CLIENT, PRODUCER and INTERNAL spans below a root are work inside a
-- request, not requests, and would count one request many times.
-- errors: status ERROR (2). Buckets start at multiples of p_bucket from the Unix epoch (UTC);
-- requests_per_s is requests / bucket length, so a bucket cut by the range's ends shows less.
CREATE FUNCTION service_red_between(p_from timestamptz, p_to timestamptz, p_bucket interval DEFAULT interval '1 minute')
RETURNS TABLE (
  bucket timestamptz, service_name text, requests bigint, errors bigint, requests_per_s double precision,
  error_ratio double precision, p50_ms double precision, p95_ms double precision, p99_ms double precision
)
LANGUAGE sql STABLE AS $$
  SELECT r.bucket, r.service_name, r.requests, r.errors,
         r.requests / extract(epoch FROM p_bucket)::double precision,
         r.errors::double precision / r.requests,
         r.q[1] / 1e6, r.q[2] / 1e6, r.q[3] / 1e6
  FROM (
    SELECT date_bin(p_bucket, s.start_time, timestamptz '1970-01-01 00:00:00+00') AS bucket,
           s.service_name,
           count(*) AS requests,
           count(*) FILTER (WHERE s.status_code = 2) AS errors,
           percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY s.duration_ns) AS q
    FROM trace_spans s
    WHERE s.start_time >= p_from AND s.start_time < p_to
      AND (s.kind IN (2, 5) OR s.parent_span_id IS NULL)
    GROUP BY 1, 2
  ) r
$$;

-- Per minute over the last hour (61 buckets; the current minute is still filling).
CREATE VIEW service_red AS
SELECT * FROM service_red_between(date_trunc('minute', now()) - interval '1 hour', now(), interval '1 minute');

-- Service dependency edges: each span whose parent span (same trace) belongs to another service is
-- one call from the parent's service to the child's. Calls are counted by the child span's start in
-- the range; the parent is looked up through the trace_id index in the partitions within an hour
-- either side of the range (parents run before their children, give or take clock skew), so the
-- lookup reads one or two daily partitions, not all of them. errors: child spans with status ERROR.
CREATE FUNCTION service_dependencies_between(p_from timestamptz, p_to timestamptz)
RETURNS TABLE (parent_service text, child_service text, calls bigint, errors bigint, avg_ms double precision)
LANGUAGE sql STABLE AS $$
  SELECT p.service_name, c.service_name, count(*), count(*) FILTER (WHERE c.status_code = 2), avg(c.duration_ns) / 1e6
  FROM trace_spans c
  JOIN trace_spans p ON p.trace_id = c.trace_id AND p.span_id = c.parent_span_id
  WHERE c.start_time >= p_from AND c.start_time < p_to
    AND c.parent_span_id IS NOT NULL
    AND p.start_time >= p_from - interval '1 hour' AND p.start_time < p_to + interval '1 hour'
    AND p.service_name <> c.service_name
  GROUP BY 1, 2
$$;

-- The last hour's edges.
CREATE VIEW service_dependencies AS
SELECT * FROM service_dependencies_between(now() - interval '1 hour', now());

-- The latest point of each gauge and sum series — a series being a metric stream (metric_id: name,
-- resource, scope, type…) and one attribute set — among points since p_since. `value` is the
-- point's value as a double; value_int keeps an int exact. Written as a lateral subquery per metric
-- so that a filter on the metric (WHERE name = …, service_name = …) applies to `metrics` first and
-- each chosen metric's points are read through the (metric_id, time DESC) index; with DISTINCT ON
-- over the whole join instead, such a filter could only be applied after every series was read.
CREATE FUNCTION metric_latest_since(p_since timestamptz)
RETURNS TABLE (
  metric_id bigint, name text, service_name text, type text, unit text, attributes jsonb,
  "time" timestamptz, value double precision, value_int bigint, value_double double precision
)
LANGUAGE sql STABLE AS $$
  SELECT m.metric_id, m.name, m.service_name, m.type, m.unit, l.attributes, l."time",
         coalesce(l.value_double, l.value_int::double precision), l.value_int, l.value_double
  FROM metrics m
  CROSS JOIN LATERAL (
    SELECT DISTINCT ON (p.attributes) p.attributes, p."time", p.value_int, p.value_double
    FROM metric_data_points p
    WHERE p.metric_id = m.metric_id AND p."time" >= p_since
    ORDER BY p.attributes, p."time" DESC
  ) l
  WHERE m.type IN ('gauge', 'sum')
$$;

-- Series that reported in the last hour; one silent for longer is taken as gone.
CREATE VIEW metric_latest AS
SELECT * FROM metric_latest_since(now() - interval '1 hour');
