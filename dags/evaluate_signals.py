"""Evaluate Axiom's signals, walk-forward and point in time: the rule analyst's "is X a buy?" at every
month-end against what followed, and how often divergences of correlated pairs reverted against random
dates. The task log shows the headline tables; the results are kept in the ledger (``signal_evaluation``).
"""

from __future__ import annotations

from airflow.sdk import Param, dag, task

from axiom import evaluation
from axiom_airflow.common import DAG_DEFAULTS, date_param, parsed
from axiom_airflow.stores import StoreSession


@dag(
    dag_id="evaluate_signals",
    schedule=None,
    tags=["axiom", "evaluation", "workflow"],
    doc_md=__doc__,
    params={
        "start": date_param("From", "First month-end evaluated (default 2005-01-01)."),
        "end": date_param("To", "Last month-end evaluated (default 2022-12-31)."),
        "horizon": Param(20, type="integer", minimum=1, maximum=250, title="Horizon (sessions)"),
    },
    **DAG_DEFAULTS,
)
def evaluate_signals():
    @task
    def evaluate(params=None) -> dict:
        request = parsed(evaluation.EvaluationParams.parse, params)
        with StoreSession() as stores:
            verdicts = evaluation.evaluate_buy(stores.ledger, request)
            spreads = evaluation.evaluate_divergences(stores.ledger, request)
        print(evaluation.headline(verdicts, spreads))
        return {"buy": verdicts, "divergence": spreads}

    evaluate()


evaluate_signals()
