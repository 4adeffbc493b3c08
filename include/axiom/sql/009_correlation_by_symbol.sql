-- 009: the stored pairs of one symbol. "Is X a buy?" reads X's strongest pairs in the newest matrix on or
-- before its as-of date. The primary key (a, b, window, as_of) serves a = X only by reading X's pairs of
-- every date and window, and b = X not at all: EXPLAIN ANALYZE at 500 synthetic symbols showed the
-- (window, as_of) index reading the whole matrix and filtering it. With these two indexes the pairs of
-- X are a BitmapOr of two index probes.
CREATE INDEX IF NOT EXISTS correlation_a_idx ON correlation (a, "window", as_of);
CREATE INDEX IF NOT EXISTS correlation_b_idx ON correlation (b, "window", as_of);
