-- What partitioning the history by month costs queries by observation time (history pages, asOf),
-- which cannot prune by receipt: the same 1.2 M readings (1,000 vehicles x 10 codes, received over
-- 2026) in one table and in 12 month partitions + DEFAULT, each with the (vehicle_id, code,
-- observed_at) index. Run, then compare the "Execution Time" and "Planning Time" lines:
--
--   psql -h 127.0.0.1 -U postgres -f bench/history-partition-queries.sql
--
-- Leaves the scratch database fg_partition_queries; DROP DATABASE it afterwards.
DROP DATABASE IF EXISTS fg_partition_queries;
CREATE DATABASE fg_partition_queries;
\c fg_partition_queries
CREATE TABLE flat (id bigint generated always as identity, vehicle_id text, code text, received_at timestamptz, observed_at timestamptz, event_id text, value float8, primary key (id));
CREATE INDEX ON flat (vehicle_id, code, observed_at);
CREATE TABLE part (id bigint generated always as identity, vehicle_id text, code text, received_at timestamptz, observed_at timestamptz, event_id text, value float8, primary key (id, received_at)) PARTITION BY RANGE (received_at);
CREATE INDEX ON part (vehicle_id, code, observed_at);
CREATE TABLE part_default PARTITION OF part DEFAULT;
SELECT format('CREATE TABLE part_%s PARTITION OF part FOR VALUES FROM (%L) TO (%L)', to_char(m, 'YYYYMM'), m, m + interval '1 month') FROM generate_series(timestamptz '2026-01-01', '2026-12-01', interval '1 month') m \gexec
INSERT INTO flat (vehicle_id, code, received_at, observed_at, event_id, value)
SELECT 'v' || (i % 1000), 'c' || (i / 1000 % 10), t, t, 'e' || i, i FROM generate_series(0, 1199999) i, LATERAL (SELECT timestamptz '2026-01-01' + i * interval '25 seconds') x(t);
INSERT INTO part (vehicle_id, code, received_at, observed_at, event_id, value) SELECT vehicle_id, code, received_at, observed_at, event_id, value FROM flat;
CREATE TABLE keys AS SELECT DISTINCT vehicle_id, code FROM flat;
VACUUM ANALYZE;
-- The value at an instant of 1,120 signals (asOfByVehicles' shape), then one history page; twice each, warm.
\set asof 'EXPLAIN (ANALYZE, SUMMARY) SELECT h.* FROM (SELECT * FROM keys WHERE vehicle_id < ''v2'') k CROSS JOIN LATERAL (SELECT r.id, r.value FROM '
\set asof_end ' r WHERE r.vehicle_id = k.vehicle_id AND r.code = k.code AND r.observed_at <= ''2026-11-20'' ORDER BY r.observed_at DESC LIMIT 1) h'
:asof flat :asof_end;
:asof part :asof_end;
:asof flat :asof_end;
:asof part :asof_end;
EXPLAIN (ANALYZE, SUMMARY) SELECT r.id FROM flat r WHERE r.vehicle_id = 'v7' AND r.code = 'c3' ORDER BY r.observed_at DESC LIMIT 21;
EXPLAIN (ANALYZE, SUMMARY) SELECT r.id FROM part r WHERE r.vehicle_id = 'v7' AND r.code = 'c3' ORDER BY r.observed_at DESC LIMIT 21;
EXPLAIN (ANALYZE, SUMMARY) SELECT r.id FROM flat r WHERE r.vehicle_id = 'v7' AND r.code = 'c3' ORDER BY r.observed_at DESC LIMIT 21;
EXPLAIN (ANALYZE, SUMMARY) SELECT r.id FROM part r WHERE r.vehicle_id = 'v7' AND r.code = 'c3' ORDER BY r.observed_at DESC LIMIT 21;
