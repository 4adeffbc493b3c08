"""Pipeline 3 — market events: FOMC decisions and abnormal price moves (or live news) into the
ledger, classified by the analyst, then MarketEvent nodes with AFFECTED_BY / AFFECTS edges in
Neo4j, event documents in Chroma, recent events in Redis, and a market_events message each.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from airflow.sdk import Param, dag, task

from axiom import schema
from axiom.analysts.judge import judge_from_env
from axiom.pipelines import events
from axiom.pipelines.prices import IngestParams
from axiom.validation import SYMBOL_PATTERN
from axiom_airflow import stores
from axiom_airflow.assets import MARKET_EVENT


@dag(
    dag_id="market_events",
    schedule="0 23 * * 1-5",
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    tags=["axiom", "events", "pipeline-3"],
    default_args={"retries": 2, "retry_delay": timedelta(seconds=30)},
    doc_md=__doc__,
    params={
        "symbols": Param(
            [],
            type="array",
            items={"type": "string", "pattern": SYMBOL_PATTERN.pattern},
            title="Symbols",
            description="Companies to scan; empty means all known.",
        ),
        "start": Param(None, type=["null", "string"], format="date", title="Start date"),
        "end": Param(None, type=["null", "string"], format="date", title="End date"),
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
        "provider": Param(
            os.environ.get("AXIOM_PRICE_PROVIDER", "offline"),
            type="string",
            enum=["offline", "yfinance"],
            title="Provider",
            description="offline: FOMC fixture + abnormal moves from the ledger; yfinance: live news.",
        ),
    },
)
def market_events():
    @task
    def migrate_schema() -> None:
        with stores.ledger() as conn, stores.graph() as driver:
            schema.migrate_postgres(conn)
            schema.migrate_neo4j(driver)

    @task
    def collect(params=None) -> int:
        dates = IngestParams.parse(
            provider=params["provider"], symbols=params["symbols"], start=params["start"], end=params["end"]
        )
        request = events.EventParams(
            provider=params["provider"],
            symbols=dates.symbols,
            start=dates.start,
            end=dates.end,
            k=float(params["k"]),
            window=int(params["window"]),
        )
        with stores.ledger() as conn:
            return events.collect(conn, request)

    @task
    def classify(ingestion_run_id: int) -> int:
        with stores.ledger() as conn:
            events.classify(conn, ingestion_run_id, judge_from_env(conn))
        return ingestion_run_id

    @task
    def graph_events(ingestion_run_id: int) -> int:
        with stores.ledger() as conn, stores.graph() as driver:
            events.graph_events(conn, driver, ingestion_run_id)
        return ingestion_run_id

    @task
    def vectorise_events(ingestion_run_id: int) -> int:
        with stores.ledger() as conn:
            events.vectorise_events(conn, stores.vectors(), ingestion_run_id)
        return ingestion_run_id

    @task
    def cache_recent(ingestion_run_id: int) -> int:
        with stores.ledger() as conn:
            events.cache_recent(conn, stores.cache(), ingestion_run_id)
        return ingestion_run_id

    @task(outlets=[MARKET_EVENT])
    def announce(ingestion_run_id: int) -> None:
        with stores.ledger() as conn:
            events.announce(conn, stores.cache(), ingestion_run_id)

    collected = collect()
    migrate_schema() >> collected
    announce(cache_recent(vectorise_events(graph_events(classify(collected)))))


market_events()
