"""Pipeline steps: each takes store clients and a run id, so Airflow, the CLI and tests share them."""
