"""Rebuild projections from the ledger alone: each chosen store (Redis, Neo4j, ChromaDB) is emptied of what
the pipelines project and written again by their own projection steps over the whole ledger, then the
drift check runs. Trigger it by hand after ``python -m axiom doctor`` reports drift, or after losing a store.
"""

from __future__ import annotations

from airflow.sdk import Param, dag, task
from airflow.sdk.exceptions import AirflowFailException

from axiom import projections
from axiom.config import Settings
from axiom_airflow.common import DAG_DEFAULTS
from axiom_airflow.stores import StoreSession


@dag(
    dag_id="rebuild_projections",
    schedule=None,
    tags=["axiom", "maintenance"],
    doc_md=__doc__,
    params={
        "stores": Param(
            list(projections.STORES),
            type="array",
            items={"type": "string", "enum": list(projections.STORES)},
            minItems=1,
            uniqueItems=True,
            title="Stores",
            description="The projections to rebuild.",
        ),
    },
    **DAG_DEFAULTS,
)
def rebuild_projections():
    @task
    def rebuild(params=None) -> dict:
        settings = Settings.from_env()
        with StoreSession() as stores:
            clients = {s: stores.client(name) for s, name in projections.CLIENT_ARGUMENT.items()}
            done = {s: projections.rebuild(stores.ledger, s, clients[s], settings=settings) for s in params["stores"]}
            drifts = projections.doctor(stores.ledger, *clients.values(), window=settings.pattern_window)
        left = {store: n for store, n in projections.summary(drifts).items() if store in params["stores"] and n}
        if left:
            raise AirflowFailException(f"still drifting after the rebuild: {left}")
        return {store: d["written"] for store, d in done.items()}

    rebuild()


rebuild_projections()
