"""Pipeline 3 — market events: FOMC decisions and abnormal price moves (or live news) into the
ledger, classified by the analyst, then MarketEvent nodes with AFFECTED_BY / AFFECTS edges in
Neo4j, event documents in Chroma, recent events in Redis, and a market_event_updates message each.
"""

from __future__ import annotations

from airflow.sdk import Param, dag, task

from axiom.pipelines import events
from axiom_airflow.assets import MARKET_EVENT
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
            minimum=events.MIN_K,
            maximum=events.MAX_K,
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
        "max_events": Param(
            1000,
            type="integer",
            minimum=1,
            maximum=events.MAX_EVENTS,
            title="Most events per run",
            description="The newest go on; older ones are kept as rejects with the reason (a cap on analyst calls).",
        ),
        "provider": provider_param("offline: FOMC fixture + abnormal moves from the ledger; yfinance: live news."),
    },
    **DAG_DEFAULTS,
)
def market_events():
    @task
    def collect(params=None, dag_run=None, data_interval_end=None) -> int:
        scheduled_end = data_interval_end.date() if dag_run.run_type == "scheduled" else None
        with migrated_stores() as stores:
            return events.collect(
                stores.ledger,
                parsed(events.EventParams.parse, params, scheduled_end=scheduled_end),
                origin=origin(dag_run),
            )

    collected = collect()
    pipeline_tasks(events.STEPS, collected, outlets=[MARKET_EVENT])


market_events()
