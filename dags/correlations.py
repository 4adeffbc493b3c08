"""Pipeline 4 — correlations: rolling correlation of daily returns from the ledger; strong pairs
as a time series, explained by the analyst, drawn as CORRELATED_WITH edges, cached in Redis and
indexed in Chroma. Set backfill dates to compute one matrix per month-end over a range.
"""

from __future__ import annotations

from airflow.sdk import Param, dag, task

from axiom.pipelines import correlations
from axiom_airflow.assets import CORRELATION
from axiom_airflow.common import DAG_DEFAULTS, date_param, migrated_stores, origin, parsed, symbols_param
from axiom_airflow.operators.pipeline_step import pipeline_tasks


@dag(
    dag_id="correlations",
    schedule="30 23 * * 1-5",
    tags=["axiom", "correlations", "pipeline-4"],
    doc_md=__doc__,
    params={
        "symbols": symbols_param("Empty means every symbol in the ledger."),
        "window": Param(30, type="integer", minimum=5, maximum=1000, title="Window (sessions)"),
        "threshold": Param(0.7, type="number", exclusiveMinimum=0, maximum=1, title="Threshold |r|"),
        "as_of": date_param("As of", "Empty means the latest bar."),
        "backfill_start": date_param("Backfill from", "With 'Backfill to': one matrix per month-end in between."),
        "backfill_end": date_param("Backfill to"),
    },
    **DAG_DEFAULTS,
)
def correlations_dag():
    @task
    def compute(params=None, dag_run=None) -> int:
        with migrated_stores() as stores:
            return correlations.compute(
                stores.ledger, parsed(correlations.CorrelationParams.parse, params), origin=origin(dag_run)
            )

    computed = compute()
    pipeline_tasks(correlations.STEPS, computed, outlets=[CORRELATION])


correlations_dag()
