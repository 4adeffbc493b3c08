-- 011: what the paid analyst spent today is counted per analyst and day (the daily budget, make status).
CREATE INDEX IF NOT EXISTS analyst_judgement_spend_idx ON analyst_judgement (analyst, created_at);
