-- 004: a run's typed scope apart from its counters; one name per concept.

-- What a run works on (symbols, dates, event ids, as-of dates, landing folder), read by its later
-- steps; ``stats`` keeps only counters. Older runs' scope keys move out of their stats.
ALTER TABLE ingestion_run ADD COLUMN IF NOT EXISTS scope jsonb NOT NULL DEFAULT '{}'::jsonb;
UPDATE ingestion_run SET
    scope = jsonb_strip_nulls(jsonb_build_object(
        'symbols', stats->'symbols', 'event_ids', stats->'event_ids', 'as_ofs', stats->'as_ofs',
        'landing', stats->'landing', 'adjusted', stats->'adjusted', 'interval', params->'interval',
        'start', params->'start', 'end', params->'end', 'window', params->'window')),
    stats = stats - 'symbols' - 'event_ids' - 'as_ofs' - 'latest_as_of' - 'landing' - 'adjusted';

-- "window" everywhere (Neo4j, Chroma, Params already say window)
ALTER TABLE correlation RENAME COLUMN window_sessions TO "window";

-- The semantic index now records the newest run of each collection's pipeline it verified;
-- 0 makes the next index run verify every collection in full.
ALTER TABLE index_state RENAME COLUMN high_water TO verified_run;
UPDATE index_state SET verified_run = 0;
