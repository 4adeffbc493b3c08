-- 015: signals a quant can weigh. Each divergence keeps its pair statistics (cointegration p-value, hedge ratio,
-- half-life, zero crossings, what closes the trade, its track record as of its session) as one JSON object.
ALTER TABLE signal ADD COLUMN IF NOT EXISTS stats jsonb NOT NULL DEFAULT '{}'::jsonb;

-- One row per evaluated observation, with the session its outcome was known (ended_on), so the track record
-- of a kind of signal as of a date reads only outcomes that had ended by then.
CREATE TABLE IF NOT EXISTS signal_outcome (
    kind            text             NOT NULL CHECK (kind IN ('buy', 'divergence')),
    label           text             NOT NULL,  -- BUY / HOLD / SELL; qualified / matched random
    subject         text             NOT NULL,  -- a symbol, or a pair A:B
    signal_date     date             NOT NULL,
    value           double precision NOT NULL,  -- the forward return; the spread trade's return after costs
    hit             boolean          NOT NULL,  -- return > 0; the spread converged within the horizon
    ended_on        date             NOT NULL,
    evaluation_key  text             NOT NULL,
    PRIMARY KEY (kind, label, subject, signal_date),
    CHECK (ended_on >= signal_date)
);
CREATE INDEX IF NOT EXISTS signal_outcome_ended_idx ON signal_outcome (kind, ended_on);
