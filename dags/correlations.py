"""Pipeline 4 — correlations: rolling correlation of daily returns from the ledger; strong pairs
as a time series, explained by the analyst, drawn as CORRELATED_WITH edges, cached in Redis and
indexed in Chroma. Set backfill dates to compute one matrix per month-end over a range.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import Param, dag, task

from axiom import schema
from axiom.analysts.judge import judge_from_env
from axiom.config import Settings
from axiom.pipelines import correlations
from axiom.pipelines.prices import IngestParams
from axiom.validation import SYMBOL_PATTERN
from axiom_airflow import stores
from axiom_airflow.assets import CORRELATION


@dag(
    dag_id="correlations",
    schedule="30 23 * * 1-5",
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    tags=["axiom", "correlations", "pipeline-4"],
    default_args={"retries": 2, "retry_delay": timedelta(seconds=30)},
    doc_md=__doc__,
    params={
        "symbols": Param(
            [],
            type="array",
            items={"type": "string", "pattern": SYMBOL_PATTERN.pattern},
            title="Symbols",
            description="Empty means every symbol in the ledger.",
        ),
        "window": Param(30, type="integer", minimum=5, maximum=1000, title="Window (sessions)"),
        "threshold": Param(0.7, type="number", exclusiveMinimum=0, maximum=1, title="Threshold |r|"),
        "as_of": Param(
            None, type=["null", "string"], format="date", title="As of", description="Empty means the latest bar."
        ),
        "backfill_start": Param(
            None,
            type=["null", "string"],
            format="date",
            title="Backfill from",
            description="With 'Backfill to': one matrix per month-end in between.",
        ),
        "backfill_end": Param(None, type=["null", "string"], format="date", title="Backfill to"),
    },
)
def correlations_dag():
    @task
    def migrate_schema() -> None:
        with stores.ledger() as conn, stores.graph() as driver:
            schema.migrate_postgres(conn)
            schema.migrate_neo4j(driver)

    @task
    def compute(params=None) -> int:
        dates = IngestParams.parse(
            provider="offline", symbols=params["symbols"], start=params["backfill_start"], end=params["backfill_end"]
        )
        as_of = IngestParams.parse(provider="offline", start=params["as_of"]).start
        request = correlations.CorrelationParams(
            symbols=dates.symbols,
            window=int(params["window"]),
            threshold=float(params["threshold"]),
            as_of=as_of,
            backfill_start=dates.start,
            backfill_end=dates.end,
        )
        with stores.ledger() as conn:
            return correlations.compute(conn, request)

    @task
    def explain(ingestion_run_id: int) -> int:
        with stores.ledger() as conn:
            correlations.explain(conn, ingestion_run_id, judge_from_env(conn))
        return ingestion_run_id

    @task
    def graph_correlations(ingestion_run_id: int) -> int:
        with stores.ledger() as conn, stores.graph() as driver:
            correlations.graph_correlations(conn, driver, ingestion_run_id)
        return ingestion_run_id

    @task
    def cache_matrix(ingestion_run_id: int) -> int:
        with stores.ledger() as conn:
            ttl = Settings.from_env().correlation_ttl
            correlations.cache_matrix(conn, stores.cache(), ingestion_run_id, ttl_seconds=ttl)
        return ingestion_run_id

    @task
    def vectorise(ingestion_run_id: int) -> int:
        with stores.ledger() as conn:
            correlations.vectorise(conn, stores.vectors(), ingestion_run_id)
        return ingestion_run_id

    @task(outlets=[CORRELATION])
    def announce(ingestion_run_id: int) -> None:
        with stores.ledger() as conn:
            correlations.announce(conn, stores.cache(), ingestion_run_id)

    computed = compute()
    migrate_schema() >> computed
    announce(vectorise(cache_matrix(graph_correlations(explain(computed)))))


correlations_dag()
