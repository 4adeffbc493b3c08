-- 003: strong correlations as a time series, and the semantic index's high-water marks.

-- One row per significant pair (a < b), window and as-of session; explanation for the latest as-of.
CREATE TABLE IF NOT EXISTS correlation (
    a               text             NOT NULL,
    b               text             NOT NULL,
    window_sessions integer          NOT NULL CHECK (window_sessions >= 2),
    as_of           date             NOT NULL,
    coefficient     double precision NOT NULL CHECK (coefficient BETWEEN -1 AND 1),
    observations    integer          NOT NULL,
    explanation     text,
    analyst         text,
    model           text,
    prompt_version  text,
    run_id          bigint           NOT NULL,
    PRIMARY KEY (a, b, window_sessions, as_of),
    CHECK (a < b)
);
CREATE INDEX IF NOT EXISTS correlation_as_of_idx ON correlation (window_sessions, as_of);

-- What the semantic index last reconciled, per Chroma collection.
CREATE TABLE IF NOT EXISTS index_state (
    collection      text             PRIMARY KEY,
    high_water      bigint           NOT NULL,
    ledger_count    integer          NOT NULL,
    indexed_at      timestamptz      NOT NULL DEFAULT now(),
    changes         jsonb            NOT NULL DEFAULT '{}'::jsonb
);
