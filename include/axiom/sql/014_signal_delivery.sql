-- 014: "alert me" is a push. One row per signal and channel (the webhook, or a configured Airflow notifier):
-- each attempt is counted, the last error kept; delivered_at marks the one delivery that counts. A delivery is
-- sent while its row is locked, so two runs side by side never send the same one.
CREATE TABLE IF NOT EXISTS signal_delivery (
    a                text        NOT NULL,
    b                text        NOT NULL,
    session          date        NOT NULL,
    kind             text        NOT NULL,
    channel          text        NOT NULL,
    attempts         integer     NOT NULL DEFAULT 0,
    last_error       text,
    last_attempt_at  timestamptz,
    delivered_at     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (a, b, session, kind, channel),
    FOREIGN KEY (a, b, session, kind) REFERENCES signal (a, b, session, kind) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS signal_delivery_pending_idx ON signal_delivery (channel) WHERE delivered_at IS NULL;
