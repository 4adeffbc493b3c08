"""Ask Axiom a question — "is X a buy?", sector rotation, the risk cascade after a Fed decision, or
stocks like X — answered point in time from all four stores. The run logs the answer readably
(verdict, reasons, the evidence of each store with its latency) and keeps it in the ledger.
"""

from __future__ import annotations

from airflow.sdk import Param, dag, task
from airflow.sdk.exceptions import AirflowFailException

from axiom.config import Settings
from axiom.insights.ask import ask, render
from axiom.insights.common import Stores
from axiom.validation import SYMBOL_PATTERN
from axiom_airflow.common import DAG_DEFAULTS, date_param
from axiom_airflow.stores import StoreSession


@dag(
    dag_id="ask",
    schedule=None,
    tags=["axiom", "insights", "workflow"],
    doc_md=__doc__,
    params={
        "question": Param(
            "buy",
            type="string",
            enum=["buy", "rotation", "cascade", "like"],
            title="Question",
            description="buy: is the symbol a buy? rotation: which sectors are rotating into strength? "
            "cascade: who is exposed to a Fed decision? like: which stocks are like the symbol?",
        ),
        "symbol": Param("AAPL", type=["null", "string"], pattern=SYMBOL_PATTERN.pattern, title="Symbol"),
        "as_of": date_param("As of", "The session the answer stands on; empty means the ledger's newest."),
        "event": Param(
            None,
            type=["null", "string"],
            pattern=r"^(\d{4}-\d{2}-\d{2}|(hike|cut) \d{1,4}bp)$",
            title="Fed decision (cascade)",
            description="A decision date (2022-06-15), or a hypothetical 'hike 50bp' on the as-of date.",
        ),
    },
    **DAG_DEFAULTS,
)
def ask_dag():
    @task
    def answer(params=None) -> dict:
        subject = params["event"] if params["question"] == "cascade" else params["symbol"]
        with StoreSession() as stores:
            try:
                insight = ask(
                    Stores(stores.ledger, stores.client("redis_client"), stores.client("driver"),
                           stores.client("chroma_client")),
                    params["question"],
                    judge=stores.client("judge"),
                    subject=subject,
                    as_of=params["as_of"],
                    ttl_seconds=Settings.from_env().insight_ttl,
                )  # fmt: skip
            except (ValueError, LookupError) as exc:  # a question no retry can answer: fail at once, say why
                raise AirflowFailException(str(exc)) from exc
        print(render(insight))
        return insight.to_json()

    answer()


ask_dag()
