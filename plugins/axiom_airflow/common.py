"""What every Axiom DAG shares: defaults, the usual Params, and the schema task."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from airflow.sdk import Param, task

from axiom import schema
from axiom.validation import SYMBOL_PATTERN
from axiom_airflow.stores import StoreSession

DAG_DEFAULTS = {
    "start_date": datetime(2026, 1, 1, tzinfo=UTC),
    "catchup": False,
    "max_active_runs": 1,
    "default_args": {"retries": 2, "retry_delay": timedelta(seconds=30)},
}


def symbols_param(description: str = "Tickers; empty means all known.") -> Param:
    return Param(
        [],
        type="array",
        items={"type": "string", "pattern": SYMBOL_PATTERN.pattern},
        title="Symbols",
        description=description,
    )


def date_param(title: str, description: str = "") -> Param:
    return Param(None, type=["null", "string"], format="date", title=title, description=description)


def provider_param(description: str) -> Param:
    return Param(
        os.environ.get("AXIOM_PRICE_PROVIDER", "offline"),
        type="string",
        enum=["offline", "yfinance", "synthetic"],
        title="Provider",
        description=description,
    )


def origin(dag_run) -> str:
    """The DAG run an ingestion run comes from: a retried first task reopens the run it started."""
    return f"{dag_run.dag_id}/{dag_run.run_id}"


@task
def migrate_schema() -> None:
    """Apply the ledger migrations, the graph constraints and renamed Redis keys (idempotent, quick)."""
    with StoreSession() as stores:
        schema.migrate_postgres(stores.ledger)
        schema.migrate_neo4j(stores.client("driver"))
        schema.migrate_redis(stores.client("redis_client"))
