"""Pipeline 4 — correlations: rolling correlation of daily returns from the ledger; strong pairs
as a time series, explained by the analyst, drawn as CORRELATED_WITH edges, cached in Redis and
indexed in Chroma. Set backfill dates to compute one matrix per month-end over a range.
"""

from __future__ import annotations

from functools import partial

from airflow.sdk import Param, chain, dag, task

from axiom.config import Settings
from axiom.pipelines import correlations
from axiom.pipelines.prices import IngestParams
from axiom_airflow import stores
from axiom_airflow.assets import CORRELATION
from axiom_airflow.common import DAG_DEFAULTS, date_param, migrate_schema, symbols_param
from axiom_airflow.operators.pipeline_step import pipeline_step


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
    def compute(params=None) -> int:
        scope = IngestParams.parse(
            provider="offline", symbols=params["symbols"], start=params["backfill_start"], end=params["backfill_end"]
        )
        request = correlations.CorrelationParams(
            symbols=scope.symbols,
            window=int(params["window"]),
            threshold=float(params["threshold"]),
            as_of=IngestParams.parse(provider="offline", start=params["as_of"]).start,
            backfill_start=scope.start,
            backfill_end=scope.end,
        )
        with stores.ledger() as conn:
            return correlations.compute(conn, request)

    computed = compute()
    migrate_schema() >> computed
    step = partial(pipeline_step, "axiom.pipelines.correlations", ingestion_run_id=computed)
    chain(
        computed,
        step("explain", clients=["judge"]),
        step("graph_correlations", clients=["graph"]),
        step("cache_matrix", clients=["cache"], ttl_seconds=Settings.from_env().correlation_ttl),
        step("vectorise", clients=["vectors"]),
        step("announce", clients=["cache"], outlets=[CORRELATION]),
    )


correlations_dag()
