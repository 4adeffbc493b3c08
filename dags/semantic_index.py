"""Pipeline 5 — semantic index: started by any pipeline's Asset, it verifies every Chroma collection
against the ledger. Each collection has one writer, the pipeline that owns its source table; the
index repairs a collection only when it may have drifted (its count differs from the ledger's, or
a run of its pipeline did not succeed), leaves one whose pipeline is writing it to that run (whose
announcement starts the next verification), and reports what it found and changed.
"""

from __future__ import annotations

from airflow.sdk import dag, task

from axiom import index
from axiom.config import Settings
from axiom_airflow.assets import LEDGER_UPDATED
from axiom_airflow.common import DAG_DEFAULTS
from axiom_airflow.stores import StoreSession


@dag(
    dag_id="semantic_index",
    schedule=LEDGER_UPDATED,
    tags=["axiom", "search", "pipeline-5"],
    doc_md=__doc__,
    **DAG_DEFAULTS,
)
def semantic_index():
    @task
    def verify(collection: str) -> dict:
        with StoreSession() as stores:
            changes = index.verify(
                stores.ledger,
                stores.client("chroma_client"),
                index.spec(collection),
                window=Settings.from_env().pattern_window,
            )
        return {"collection": collection, **changes}

    def state(c: dict) -> str:
        if "writer" in c:
            return f"left to run {c['writer']}, still writing it"
        return "repaired" if c["repaired"] else "in line"

    @task
    def report(changes: list[dict]) -> None:
        for c in changes:
            print(
                f"{c['collection']:<15} upserted {c['upserted']:>6}  deleted {c['deleted']:>6}  "
                f"ledger {c['ledger']:>7}  chroma {c['chroma']:>7}  {state(c)}"
            )

    report(verify.expand(collection=[s.collection for s in index.SPECS]))


semantic_index()
