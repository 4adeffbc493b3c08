"""Search everything Axiom has indexed — companies, market events and correlations — by meaning,
with optional filters. Trigger it with a question; the results are in the task log and its XCom.
"""

from __future__ import annotations

from airflow.sdk import Param, dag, task

from axiom import search
from axiom.models import EVENT_TYPES
from axiom.validation import SYMBOL_PATTERN
from axiom_airflow.common import DAG_DEFAULTS
from axiom_airflow.stores import StoreSession


@dag(
    dag_id="semantic_search",
    schedule=None,
    tags=["axiom", "search", "workflow"],
    doc_md=__doc__,
    params={
        "query": Param(
            "federal reserve interest rate increase", type="string", minLength=1, maxLength=1000, title="Query"
        ),
        "kinds": Param(
            sorted(search.TEXT_KINDS),
            type="array",
            title="Kinds",
            items={"type": "string", "enum": sorted(search.TEXT_KINDS)},
        ),
        "event_type": Param(None, type=["null", "string"], enum=[None, *EVENT_TYPES], title="Event type"),
        "symbol": Param(None, type=["null", "string"], pattern=SYMBOL_PATTERN.pattern, title="Symbol"),
        "since": Param(None, type=["null", "string"], format="date", title="Since"),
        "until": Param(None, type=["null", "string"], format="date", title="Until"),
        "k": Param(10, type="integer", minimum=1, maximum=100, title="Results"),
    },
    **DAG_DEFAULTS,
)
def semantic_search():
    @task
    def run_search(params=None) -> list[dict]:
        where = search.where_clause(**{k: params[k] for k in ("event_type", "symbol", "since", "until")})
        with StoreSession() as stores:
            chroma = stores.client("chroma_client")
            hits = search.search(chroma, params["query"], kinds=params["kinds"], where=where, k=params["k"])
        for rank, hit in enumerate(hits, 1):
            print(f"{rank:>2}. [{hit.kind}] {hit.id}  distance {hit.distance:.3f}\n    {(hit.document or '')[:200]}")
        return [{"kind": h.kind, "id": h.id, "distance": h.distance, "metadata": h.metadata} for h in hits]

    run_search()


semantic_search()
