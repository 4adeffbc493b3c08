-- 005: answers to the questions users ask of all four stores, kept with who answered and how fast.

-- One row per distinct question (question, subject, params, as-of, analyst, model, prompt version),
-- keyed by a hash of those; the same question again is read back, not recomputed.
CREATE TABLE IF NOT EXISTS insight (
    cache_key       text             PRIMARY KEY,
    question        text             NOT NULL CHECK (question IN ('buy', 'rotation', 'cascade', 'like')),
    subject         text             NOT NULL,
    params          jsonb            NOT NULL,
    as_of           date             NOT NULL,
    answer          jsonb            NOT NULL,
    analyst         text             NOT NULL,
    model           text             NOT NULL,
    prompt_version  text             NOT NULL,
    latency_ms      double precision NOT NULL,
    created_at      timestamptz      NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS insight_question_idx ON insight (question, subject, as_of);
