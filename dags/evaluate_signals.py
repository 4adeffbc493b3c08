"""Evaluate Axiom's signals, walk-forward and point in time, the way the field reports them: the rule analyst's
buy score as a factor at every month-end (IC, rank IC, ICIR, t) beside momentum and reversal, and qualified
divergences as spread trades (convergence, return after costs) against matched random pairs. The task log shows
the tables; the results are kept in the ledger (``signal_evaluation``), each observation's outcome with the session
it ended (``signal_outcome``: the track record every answer carries).
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
        "cost_bp": Param(10.0, type="number", minimum=0, maximum=100, title="Cost per leg per side (bp)"),
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
        # the results are in the ledger (signal_evaluation, signal_outcome): XCom carries their keys and sizes
        return {"buy": request.key("buy"), "verdicts": verdicts["observations"],
                "divergence": request.key("divergence"), "divergences": spreads["divergences"]}  # fmt: skip

    evaluate()


evaluate_signals()
