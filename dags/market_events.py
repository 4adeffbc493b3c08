"""Pipeline 3 — market events: FOMC decisions and abnormal price moves (or live news) into the
ledger, classified by the analyst, then MarketEvent nodes with AFFECTED_BY / AFFECTS edges in
Neo4j, event documents in Chroma, recent events in Redis, and a market_events message each.
"""

from __future__ import annotations

from functools import partial

from airflow.sdk import Param, chain, dag, task

from axiom.pipelines import events
from axiom.pipelines.prices import IngestParams
from axiom_airflow import stores
from axiom_airflow.assets import MARKET_EVENT
from axiom_airflow.common import DAG_DEFAULTS, date_param, migrate_schema, provider_param, symbols_param
from axiom_airflow.operators.pipeline_step import pipeline_step


@dag(
    dag_id="market_events",
    schedule="0 23 * * 1-5",
    tags=["axiom", "events", "pipeline-3"],
    doc_md=__doc__,
    params={
        "symbols": symbols_param("Companies to scan; empty means all known."),
        "start": date_param("Start date"),
        "end": date_param("End date"),
        "k": Param(
            5.0,
            type="number",
            exclusiveMinimum=0,
            title="k (sigma)",
            description="An abnormal move is a daily return of at least k standard deviations.",
        ),
        "window": Param(
            60,
            type="integer",
            minimum=5,
            maximum=500,
            title="Volatility window",
            description="Sessions of trailing returns that define the standard deviation.",
        ),
        "provider": provider_param("offline: FOMC fixture + abnormal moves from the ledger; yfinance: live news."),
    },
    **DAG_DEFAULTS,
)
def market_events():
    @task
    def collect(params=None) -> int:
        scope = IngestParams.parse(
            provider=params["provider"], symbols=params["symbols"], start=params["start"], end=params["end"]
        )
        request = events.EventParams(
            provider=params["provider"],
            symbols=scope.symbols,
            start=scope.start,
            end=scope.end,
            k=float(params["k"]),
            window=int(params["window"]),
        )
        with stores.ledger() as conn:
            return events.collect(conn, request)

    collected = collect()
    migrate_schema() >> collected
    step = partial(pipeline_step, "axiom.pipelines.events", ingestion_run_id=collected)
    chain(
        collected,
        step("classify", clients=["judge"]),
        step("graph_events", clients=["graph"]),
        step("vectorise_events", clients=["vectors"]),
        step("cache_recent", clients=["cache"]),
        step("announce", clients=["cache"], outlets=[MARKET_EVENT]),
    )


market_events()
