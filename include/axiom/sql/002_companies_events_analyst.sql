-- 002: company fundamentals, market events, and the analyst's cached judgements.

-- Dated snapshots of what a source said about a company.
CREATE TABLE IF NOT EXISTS company_fundamentals (
    symbol          text             NOT NULL,
    as_of           date             NOT NULL,
    name            text             NOT NULL,
    sector          text             NOT NULL,
    industry        text             NOT NULL,
    description     text             NOT NULL,
    market_cap_usd  double precision CHECK (market_cap_usd > 0),
    debt_to_equity  double precision CHECK (debt_to_equity >= 0),
    source          text             NOT NULL,
    run_id          bigint           NOT NULL,
    PRIMARY KEY (symbol, as_of)
);

-- Competitors named by an analyst for a company snapshot.
CREATE TABLE IF NOT EXISTS company_competitor (
    symbol          text             NOT NULL,
    competitor      text             NOT NULL,
    as_of           date             NOT NULL,
    intensity       double precision NOT NULL CHECK (intensity BETWEEN 0 AND 1),
    rationale       text             NOT NULL,
    analyst         text             NOT NULL,
    model           text             NOT NULL,
    prompt_version  text             NOT NULL,
    run_id          bigint           NOT NULL,
    PRIMARY KEY (symbol, competitor, as_of),
    CHECK (symbol <> competitor)
);

-- Events from any source, idempotent on (source, source_id); classification filled in later.
CREATE TABLE IF NOT EXISTS market_event (
    event_id        bigserial        PRIMARY KEY,
    source          text             NOT NULL,
    source_id       text             NOT NULL,
    symbol          text,
    occurred_at     timestamptz      NOT NULL,
    title           text             NOT NULL,
    summary         text             NOT NULL DEFAULT '',
    facts           jsonb            NOT NULL DEFAULT '{}'::jsonb,
    event_type      text CHECK (event_type IN ('earnings', 'merger', 'fed_decision', 'guidance', 'legal',
                                               'product', 'macro', 'price_move', 'other')),
    impact          double precision CHECK (impact BETWEEN 0 AND 1),
    sentiment       double precision CHECK (sentiment BETWEEN -1 AND 1),
    analyst         text,
    model           text,
    prompt_version  text,
    run_id          bigint           NOT NULL,
    UNIQUE (source, source_id)
);
CREATE INDEX IF NOT EXISTS market_event_symbol_time_idx ON market_event (symbol, occurred_at);
CREATE INDEX IF NOT EXISTS market_event_run_idx ON market_event (run_id);

-- How strongly a macro event moved each sector (measured from the ledger's prices).
CREATE TABLE IF NOT EXISTS event_sector_sensitivity (
    event_id        bigint           NOT NULL REFERENCES market_event (event_id) ON DELETE CASCADE,
    sector          text             NOT NULL,
    sensitivity     double precision NOT NULL CHECK (sensitivity BETWEEN 0 AND 1),
    observations    integer          NOT NULL,
    PRIMARY KEY (event_id, sector)
);

-- Every analyst answer, keyed by a hash of (analyst, model, prompt version, task, input):
-- asking the same question again reads the answer instead of calling the analyst.
CREATE TABLE IF NOT EXISTS analyst_judgement (
    cache_key       text             PRIMARY KEY,
    task            text             NOT NULL,
    analyst         text             NOT NULL,
    model           text             NOT NULL,
    prompt_version  text             NOT NULL,
    input           jsonb            NOT NULL,
    output          jsonb            NOT NULL,
    input_tokens    integer,
    output_tokens   integer,
    latency_ms      integer,
    created_at      timestamptz      NOT NULL DEFAULT now()
);
