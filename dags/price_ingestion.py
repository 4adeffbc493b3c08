"""Pipeline 1 — price ingestion: OHLCV bars into the ledger, then Redis, Neo4j and Chroma.

Scheduled on weekday evenings (UTC, after the US close) for live use; trigger it by hand with
Params to load any symbols and dates. Tasks hand each other the run id, never the data.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from airflow.sdk import Param, dag, task

from axiom import schema
from axiom.config import Settings
from axiom.pipelines import prices
from axiom.sources.prices import PROVIDERS
from axiom.validation import SYMBOL_PATTERN
from axiom_airflow import stores
from axiom_airflow.assets import PRICE_BAR


@dag(
    dag_id="price_ingestion",
    schedule="30 22 * * 1-5",
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    tags=["axiom", "prices", "pipeline-1"],
    default_args={"retries": 2, "retry_delay": timedelta(seconds=30)},
    doc_md=__doc__,
    params={
        "symbols": Param(
            [],
            type="array",
            items={"type": "string", "pattern": SYMBOL_PATTERN.pattern},
            title="Symbols",
            description="Tickers to load; empty means the provider's whole universe.",
        ),
        "start": Param(
            None,
            type=["null", "string"],
            format="date",
            title="Start date",
            description="First session to load; empty: all history (manual) or the last week (scheduled).",
        ),
        "end": Param(
            None,
            type=["null", "string"],
            format="date",
            title="End date",
            description="Last session to load; empty: up to the latest.",
        ),
        "provider": Param(
            os.environ.get("AXIOM_PRICE_PROVIDER", "offline"),
            type="string",
            enum=sorted(PROVIDERS),
            title="Provider",
            description="offline: real packaged history (skfolio); yfinance: live Yahoo Finance.",
        ),
    },
)
def price_ingestion():
    @task
    def migrate_schema() -> None:
        with stores.ledger() as conn, stores.graph() as driver:
            schema.migrate_postgres(conn)
            schema.migrate_neo4j(driver)

    @task
    def fetch(params=None, dag_run=None, data_interval_end=None) -> int:
        start, end = params["start"], params["end"]
        if dag_run.run_type == "scheduled" and not (start or end):
            start, end = (data_interval_end - timedelta(days=7)).date(), data_interval_end.date()
        request = prices.IngestParams.parse(
            provider=params["provider"], symbols=params["symbols"], start=start, end=end
        )
        with stores.ledger() as conn:
            return prices.fetch(conn, request, landing_dir=Settings.from_env().landing_dir)

    @task
    def validate(ingestion_run_id: int) -> int:
        with stores.ledger() as conn:
            prices.validate(conn, ingestion_run_id, landing_dir=Settings.from_env().landing_dir)
        return ingestion_run_id

    @task
    def load(ingestion_run_id: int) -> int:
        with stores.ledger() as conn:
            prices.load(conn, ingestion_run_id, landing_dir=Settings.from_env().landing_dir)
        return ingestion_run_id

    @task
    def cache_latest(ingestion_run_id: int) -> None:
        with stores.ledger() as conn:
            prices.cache_latest(
                conn, stores.cache(), ingestion_run_id, ttl_seconds=Settings.from_env().latest_price_ttl
            )

    @task
    def graph_stocks(ingestion_run_id: int) -> None:
        with stores.ledger() as conn, stores.graph() as driver:
            prices.graph_stocks(conn, driver, ingestion_run_id)

    @task
    def vectorise_patterns(ingestion_run_id: int) -> None:
        with stores.ledger() as conn:
            prices.vectorise_patterns(
                conn, stores.vectors(), ingestion_run_id, window=Settings.from_env().pattern_window
            )

    @task(outlets=[PRICE_BAR])
    def announce(ingestion_run_id: int) -> None:
        with stores.ledger() as conn:
            prices.announce(conn, stores.cache(), ingestion_run_id)

    fetched = fetch()
    migrate_schema() >> fetched
    loaded = load(validate(fetched))
    [cache_latest(loaded), graph_stocks(loaded), vectorise_patterns(loaded)] >> announce(loaded)


price_ingestion()
