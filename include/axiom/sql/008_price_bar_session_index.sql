-- 008: bars by session across all symbols. The readers that ask for the ledger's session span or its
-- last sessions without a symbol (the as-of of sector rotation, the newest session) scanned every bar:
-- at 500 symbols x 10 years, EXPLAIN ANALYZE showed 390 ms (min/max) and 520 ms (last 21 sessions)
-- as parallel sequential scans; with this index they are an index-only probe (0.04 ms) and a
-- backward index scan (2 ms; 10 ms before the table is vacuumed). The primary key (symbol, interval, ts)
-- still serves per-symbol reads.
CREATE INDEX IF NOT EXISTS price_bar_interval_ts_idx ON price_bar (interval, ts);
