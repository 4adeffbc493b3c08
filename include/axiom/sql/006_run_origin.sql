-- 006: the Airflow DAG run that started an ingestion run, so a retried first task reuses its run
-- (instead of opening another) and a DAG run can be traced to what it wrote.
ALTER TABLE ingestion_run ADD COLUMN IF NOT EXISTS origin text;
CREATE UNIQUE INDEX IF NOT EXISTS ingestion_run_origin_idx ON ingestion_run (origin) WHERE origin IS NOT NULL;
