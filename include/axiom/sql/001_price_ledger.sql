-- 001: the price ledger: ingestion runs, daily/intraday bars, and rows rejected with a reason.

CREATE TABLE IF NOT EXISTS ingestion_run (
    run_id      bigserial   PRIMARY KEY,
    pipeline    text        NOT NULL,
    provider    text        NOT NULL,
    params      jsonb       NOT NULL,
    status      text        NOT NULL DEFAULT 'running'
                            CHECK (status IN ('running', 'succeeded', 'failed')),
    stats       jsonb       NOT NULL DEFAULT '{}'::jsonb,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);

-- One bar per (symbol, interval, ts). Daily bars are keyed by their session date at 00:00 UTC;
-- intraday bars by their start in UTC. open/high/low/volume are NULL when the source lacks them.
CREATE TABLE IF NOT EXISTS price_bar (
    symbol    text             NOT NULL,
    interval  text             NOT NULL,
    ts        timestamptz      NOT NULL,
    open      double precision CHECK (open > 0),
    high      double precision CHECK (high > 0),
    low       double precision CHECK (low > 0),
    close     double precision NOT NULL CHECK (close > 0),
    volume    bigint           CHECK (volume >= 0),
    adjusted  boolean          NOT NULL,
    source    text             NOT NULL,
    run_id    bigint           NOT NULL,
    PRIMARY KEY (symbol, interval, ts)
);

-- Rows that failed validation, kept for inspection. One row per distinct (dataset, reason, payload):
-- seeing the same bad row again bumps its counters instead of adding a copy.
CREATE TABLE IF NOT EXISTS rejected_row (
    reject_id      bigserial   PRIMARY KEY,
    dataset        text        NOT NULL,
    reason         text        NOT NULL,
    payload        jsonb       NOT NULL,
    payload_sha256 text        NOT NULL,
    first_run_id   bigint      NOT NULL,
    last_run_id    bigint      NOT NULL,
    seen_count     integer     NOT NULL DEFAULT 1,
    first_seen     timestamptz NOT NULL DEFAULT now(),
    last_seen      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (dataset, reason, payload_sha256)
);
CREATE INDEX IF NOT EXISTS rejected_row_last_run_idx ON rejected_row (last_run_id);
