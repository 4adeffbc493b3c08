"""Ask Axiom a question — "is X a buy?", sector rotation, the risk cascade after a Fed decision, or
stocks like X — answered point in time from all four stores. The run logs the answer readably
(verdict, reasons, the evidence of each store with its latency) and keeps it in the ledger.
"""

from __future__ import annotations

from airflow.sdk import Param, dag, task
from airflow.sdk.exceptions import AirflowFailException

from axiom.config import Settings
from axiom.insights import cascade
from axiom.insights.ask import QUESTIONS, ask, render
from axiom.insights.common import SYMBOL_SUBJECT, Stores
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
            enum=list(QUESTIONS),
            title="Question",
            description="buy: is the symbol a buy? rotation: which sectors are rotating into strength? "
            "cascade: who is exposed to a Fed decision? like: which stocks are like the symbol?",
        ),
        "symbol": Param(
            "AAPL",
            type=["null", "string"],
            pattern=SYMBOL_SUBJECT.pattern,
            title="Symbol (buy, like)",
            description=SYMBOL_SUBJECT.description.capitalize() + ".",
        ),
        "as_of": date_param("As of", "The session the answer stands on; empty means the ledger's newest."),
        "event": Param(
            None,
            type=["null", "string"],
            pattern=cascade.SUBJECT.pattern,
            title="Fed decision (cascade)",
            description=cascade.SUBJECT.description.capitalize() + ".",
        ),
    },
    **DAG_DEFAULTS,
)
def ask_dag():
    @task
    def answer(params=None) -> dict:
        about = QUESTIONS[params["question"]].SUBJECT  # the Param named after it carries it
        subject = params[about.name] if about else None
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
