-- uint32 counts as bigint (issue 12: every valid OTLP value stored).
--
-- The dropped_*_count fields of Resource, InstrumentationScope, Span and LogRecord are uint32 in
-- OTLP (0 … 4294967295) but were stored in integer columns (up to 2^31−1): a resource's or scope's
-- count of 2^31 or more failed its whole request ("value … is out of range for type integer"), and
-- a span or log record with one was refused. bigint holds every uint32 exactly, so SQL reads the
-- count as it was sent. (Keeping integer and storing the bits, past 2^31 as negative numbers, would
-- have made every query that compares or sums a count wrong.) The other uint32 and fixed32 fields
-- were already bigint (flags) or are nested in jsonb (events' and links' counts and flags); the
-- int32 and sint32 fields (enums, scale, bucket offsets) fit integer.
--
-- What it costs, once: ALTER COLUMN … TYPE rewrites each table, and every partition of the
-- partitioned ones (DEFAULT included), under an ACCESS EXCLUSIVE lock that writers wait behind, for
-- a time proportional to the table's size; each table's columns change in one ALTER, so each table
-- is rewritten once. A row grows by at most 4 bytes per column. Worth it: the alternative is
-- refusing valid telemetry for ever, and a whole request with it when the count is the resource's.
--
-- Upgrade every otlp-pg sharing the database together: one from before this migration sends these
-- columns as int4 in binary COPY, which a bigint column refuses. No view or index of otlp-pg reads
-- these columns (0004's views read functions, and a SQL function's body holds no dependency on a
-- column); a view of your own on one of them makes this migration fail, and otlp-pg not start,
-- until it is dropped (recreate it afterwards).

ALTER TABLE resources ALTER COLUMN dropped_attributes_count TYPE bigint;

ALTER TABLE scopes ALTER COLUMN dropped_attributes_count TYPE bigint;

ALTER TABLE trace_spans
  ALTER COLUMN dropped_attributes_count TYPE bigint,
  ALTER COLUMN dropped_events_count TYPE bigint,
  ALTER COLUMN dropped_links_count TYPE bigint;

ALTER TABLE logs ALTER COLUMN dropped_attributes_count TYPE bigint;
