// 003: a session's rotation pairs are read by date (an answer's ROTATION_AT, the pipelines' replace from a
// session on): an index on the relationship's date seeks them, where a scan reads every session's pairs.
CREATE INDEX rotates_to_as_of IF NOT EXISTS FOR ()-[r:ROTATES_TO]-() ON (r.as_of);
