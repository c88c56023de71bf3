-- Idempotent retries: the digest of every committed export request, written in the same
-- transaction as its rows. A client that retries a request whose answer it lost (the rows were in
-- fact committed) is acknowledged without the rows being stored twice. Request-level rather than
-- row-level: no unique index is needed on the large row tables (each would cost every insert), it
-- covers log records and data points, which have no natural key, and a trace's summary row is only
-- ever updated by spans stored once. Rows older than --dedupe-window are pruned.
CREATE TABLE otlp_pg_requests (
  request_key bytea PRIMARY KEY, -- sha256 of the signal and the request body as decoded from the wire
  received_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX otlp_pg_requests_received_at_idx ON otlp_pg_requests (received_at);
