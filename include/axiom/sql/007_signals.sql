-- 007: trading signals (divergences of correlated pairs) and the evaluations of Axiom's signals.

-- One row per signal, idempotent on (pair, session, kind). streamed_at marks the signals already
-- written to the Redis stream and channel (an outbox: a retried run streams only what is left).
CREATE TABLE IF NOT EXISTS trading_signal (
    a               text             NOT NULL,
    b               text             NOT NULL,
    session         date             NOT NULL,
    kind            text             NOT NULL CHECK (kind IN ('divergence')),
    z               double precision NOT NULL,
    coefficient     double precision NOT NULL,
    beta            double precision NOT NULL,
    moved           text             NOT NULL,
    return_a        double precision NOT NULL,
    return_b        double precision NOT NULL,
    close_a         double precision NOT NULL,
    close_b         double precision NOT NULL,
    trade           text             NOT NULL,
    created_at      timestamptz      NOT NULL DEFAULT now(),
    streamed_at     timestamptz,
    PRIMARY KEY (a, b, session, kind),
    CHECK (a < b)
);

-- The results of one evaluation (walk-forward, point in time), keyed by a hash of its kind and parameters.
CREATE TABLE IF NOT EXISTS signal_evaluation (
    evaluation_key  text             PRIMARY KEY,
    kind            text             NOT NULL CHECK (kind IN ('buy', 'divergence')),
    params          jsonb            NOT NULL,
    results         jsonb            NOT NULL,
    evaluated_at    timestamptz      NOT NULL DEFAULT now()
);
