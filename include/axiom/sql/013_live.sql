-- 013: Axiom live. A replay releases real sessions one at a time on a clock (the replay price provider serves
-- nothing after its clock); session_hop stamps when each session reached each hop of the live path, with the
-- seconds Axiom's own code worked in that hop's step, so the rest of each hop is Airflow's scheduling and start-up.
CREATE TABLE IF NOT EXISTS replay (
    replay_id     BIGSERIAL PRIMARY KEY,
    source        TEXT NOT NULL,                -- the provider whose sessions are released: offline or synthetic
    symbols       TEXT[] NOT NULL,
    first_session DATE NOT NULL,
    last_session  DATE NOT NULL,
    every_seconds DOUBLE PRECISION NOT NULL CHECK (every_seconds >= 0),
    clock         DATE,                         -- the newest released session (NULL: none yet)
    state         TEXT NOT NULL DEFAULT 'starting'
                  CHECK (state IN ('starting', 'backfilling', 'running', 'retrying', 'failed', 'finished', 'stopped')),
    message       TEXT,
    started_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (first_session <= last_session)
);
CREATE INDEX IF NOT EXISTS replay_started_idx ON replay (started_at DESC);

CREATE TABLE IF NOT EXISTS session_hop (
    session      DATE NOT NULL,
    hop          TEXT NOT NULL,                 -- released, or PIPELINE.STEP (price_ingestion.load, divergence_alerts.alert)
    at           TIMESTAMPTZ NOT NULL,          -- when the hop was done (the latest of its tasks, for a fanned-out step)
    work_seconds DOUBLE PRECISION NOT NULL DEFAULT 0,  -- Axiom's own work in the hop's step (summed over its tasks)
    started_at   TIMESTAMPTZ NOT NULL,          -- when its first task's work began
    PRIMARY KEY (session, hop)
);
