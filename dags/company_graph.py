"""Pipeline 2 — company graph: fundamentals into the ledger, competitors from the analyst, then
Company/Sector nodes with BELONGS_TO and COMPETES_WITH in Neo4j, descriptions in Chroma and
metadata in Redis. Weekly for live use; trigger by hand with Params.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from airflow.sdk import Param, dag, task

from axiom import schema
from axiom.analysts.judge import judge_from_env
from axiom.config import Settings
from axiom.pipelines import companies
from axiom.validation import SYMBOL_PATTERN
from axiom_airflow import stores
from axiom_airflow.assets import COMPANY_FUNDAMENTALS


@dag(
    dag_id="company_graph",
    schedule="0 6 * * 6",
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    tags=["axiom", "companies", "pipeline-2"],
    default_args={"retries": 2, "retry_delay": timedelta(seconds=30)},
    doc_md=__doc__,
    params={
        "symbols": Param(
            [],
            type="array",
            items={"type": "string", "pattern": SYMBOL_PATTERN.pattern},
            title="Symbols",
            description="Companies to (re)build; empty means all known.",
        ),
        "provider": Param(
            os.environ.get("AXIOM_PRICE_PROVIDER", "offline"),
            type="string",
            enum=["offline", "yfinance"],
            title="Provider",
            description="offline: sourced fixture; yfinance: live Ticker.info.",
        ),
    },
)
def company_graph():
    @task
    def migrate_schema() -> None:
        with stores.ledger() as conn, stores.graph() as driver:
            schema.migrate_postgres(conn)
            schema.migrate_neo4j(driver)

    @task
    def load_fundamentals(params=None) -> int:
        with stores.ledger() as conn:
            return companies.load_fundamentals(conn, provider=params["provider"], symbols=params["symbols"] or None)

    @task
    def name_competitors(ingestion_run_id: int) -> int:
        with stores.ledger() as conn:
            companies.name_competitors(conn, ingestion_run_id, judge_from_env(conn))
        return ingestion_run_id

    @task
    def graph_companies(ingestion_run_id: int) -> int:
        with stores.ledger() as conn, stores.graph() as driver:
            companies.graph_companies(conn, driver, ingestion_run_id)
        return ingestion_run_id

    @task
    def vectorise_descriptions(ingestion_run_id: int) -> int:
        with stores.ledger() as conn:
            companies.vectorise_descriptions(conn, stores.vectors(), ingestion_run_id)
        return ingestion_run_id

    @task
    def cache_metadata(ingestion_run_id: int) -> int:
        with stores.ledger() as conn:
            ttl = Settings.from_env().company_metadata_ttl
            companies.cache_metadata(conn, stores.cache(), ingestion_run_id, ttl_seconds=ttl)
        return ingestion_run_id

    @task(outlets=[COMPANY_FUNDAMENTALS])
    def announce(ingestion_run_id: int) -> None:
        with stores.ledger() as conn:
            companies.announce(conn, stores.cache(), ingestion_run_id)

    loaded = load_fundamentals()
    migrate_schema() >> loaded
    announce(cache_metadata(vectorise_descriptions(graph_companies(name_competitors(loaded)))))


company_graph()
