"""Pipeline 5 — semantic index: started by any pipeline's Asset, it brings every Chroma collection
in line with the ledger (upserts what is new or changed, deletes what the ledger no longer has,
records a high-water mark) and reports what it changed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import dag, task

from axiom import index
from axiom.config import Settings
from axiom_airflow import stores
from axiom_airflow.assets import LEDGER_UPDATED


@dag(
    dag_id="semantic_index",
    schedule=LEDGER_UPDATED,
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    tags=["axiom", "search", "pipeline-5"],
    default_args={"retries": 2, "retry_delay": timedelta(seconds=30)},
    doc_md=__doc__,
)
def semantic_index():
    @task
    def reconcile(collection: str) -> dict:
        with stores.ledger() as conn:
            changes = index.reconcile(
                conn, stores.vectors(), index.spec(collection), window=Settings.from_env().pattern_window
            )
        return {"collection": collection, **changes}

    @task
    def report(changes: list[dict]) -> None:
        for c in changes:
            print(
                f"{c['collection']:<15} upserted {c['upserted']:>6}  deleted {c['deleted']:>6}  "
                f"ledger {c['ledger']:>7}  chroma {c['chroma']:>7}{'  (unchanged)' if c.get('skipped') else ''}"
            )

    report(reconcile.expand(collection=[s.collection for s in index.SPECS]))


semantic_index()
