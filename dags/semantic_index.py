"""Pipeline 5 — semantic index: started by any pipeline's Asset, it brings every Chroma collection
in line with the ledger (upserts what is new or changed, deletes what the ledger no longer has,
records a high-water mark) and reports what it changed.
"""

from __future__ import annotations

from airflow.sdk import dag, task

from axiom import index
from axiom.config import Settings
from axiom_airflow import stores
from axiom_airflow.assets import LEDGER_UPDATED
from axiom_airflow.common import DAG_DEFAULTS


@dag(
    dag_id="semantic_index",
    schedule=LEDGER_UPDATED,
    tags=["axiom", "search", "pipeline-5"],
    doc_md=__doc__,
    **DAG_DEFAULTS,
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
