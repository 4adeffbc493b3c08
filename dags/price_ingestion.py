"""Pipeline 1 — price ingestion: OHLCV bars into the ledger, then Redis, Neo4j and Chroma.

Scheduled on weekday evenings (UTC, after the US close) for live use; trigger it by hand with
Params to load any symbols and dates. Tasks hand each other the run id, never the data. The steps
after ``fetch`` are the pipeline's declared ``prices.STEPS``; the per-symbol projections fan out over
chunks of ``AXIOM_SYMBOL_CHUNK`` symbols (dynamic task mapping), so a bigger universe means more
parallel tasks, not bigger ones; an evening's increment (a run of at most 31 days) is one chunk.
"""

from __future__ import annotations

from airflow.sdk import dag, task

from axiom.config import Settings
from axiom.pipelines import prices
from axiom_airflow.assets import PRICE_BAR
from axiom_airflow.common import (
    DAG_DEFAULTS,
    date_param,
    migrated_stores,
    origin,
    parsed,
    provider_param,
    symbols_param,
)
from axiom_airflow.operators.pipeline_step import pipeline_tasks


@dag(
    dag_id="price_ingestion",
    schedule="30 22 * * 1-5",
    tags=["axiom", "prices", "pipeline-1"],
    doc_md=__doc__,
    params={
        "symbols": symbols_param("Tickers to load; empty means the provider's whole universe."),
        "start": date_param("Start date", "First session; empty: all history (manual) or the last week (scheduled)."),
        "end": date_param("End date", "Last session to load; empty: up to the latest."),
        "provider": provider_param(
            "offline: real packaged history (skfolio); yfinance: live Yahoo Finance; synthetic: simulated (scale "
            "tests); replay: the sessions a replay has released (python -m axiom replay).",
            replay=True,
        ),
    },
    **DAG_DEFAULTS,
)
def price_ingestion():
    @task
    def fetch(params=None, dag_run=None, data_interval_end=None) -> int:
        scheduled_end = data_interval_end.date() if dag_run.run_type == "scheduled" else None
        with migrated_stores() as stores:
            return prices.fetch(
                stores.ledger,
                parsed(prices.IngestParams.parse, params, scheduled_end=scheduled_end),
                landing_dir=Settings.from_env().landing_dir,
                origin=origin(dag_run),
            )

    fetched = fetch()
    pipeline_tasks(prices.STEPS, fetched, outlets=[PRICE_BAR])


price_ingestion()
