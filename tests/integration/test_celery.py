"""The CeleryExecutor for real: the scheduler sends price_ingestion's tasks through the tests' Redis
(db 1) to two Celery workers, which run them against the real stores and report through the api-server."""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
import pytest
from airflow.utils.net import getfqdn

from axiom.sources.prices import OfflineProvider
from axiom.stores import cache
from tests.support import Subscriber, airflow_components, leaked_secrets, wait_until

SYMBOLS = ["AAPL", "JPM", "XOM"]
CONF = {"symbols": SYMBOLS, "start": "2022-06-01", "end": "2022-12-31", "provider": "offline"}
WORKERS = ("worker1", "worker2")
# two task slots per worker; no cron or Asset runs of the scheduler's own, only what the test triggers;
# each DAG file parsed once (not every 30 s, which on two cores slows every task of the run)
CELERY = {
    "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
    "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
    "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
    "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "600",
}


def celery_nodes() -> set[str]:
    """The Celery workers that answer a ping on the broker, by name (worker1@host -> worker1)."""
    from airflow.providers.celery.executors.celery_executor import app

    return {node.split("@")[0] for node in app.control.inspect(timeout=1).ping() or {}}


def parsed_since(moment: datetime) -> bool:
    """Whether the dag-processor has parsed price_ingestion into the tests' metadata DB since ``moment``."""
    from airflow.models.dag import DagModel
    from airflow.utils.session import create_session

    with create_session() as session:
        dag = session.get(DagModel, "price_ingestion")
        return dag is not None and dag.last_parsed_time is not None and dag.last_parsed_time >= moment


def unpause_and_trigger(run_id: str) -> None:
    """What ``airflow dags unpause`` and ``airflow dags trigger`` do, without a CLI process (10 s of CPU each)."""
    from airflow.api.common.trigger_dag import trigger_dag
    from airflow.models.dag import DagModel
    from airflow.utils.session import create_session
    from airflow.utils.types import DagRunTriggeredByType

    with create_session() as session:
        session.get(DagModel, "price_ingestion").is_paused = False
    trigger_dag("price_ingestion", run_id=run_id, conf=CONF, triggered_by=DagRunTriggeredByType.TEST)


def dag_run(run_id: str) -> tuple[str | None, list[dict]]:
    """The run's state and its task instances (task, state, host, Celery task id) in the tests' metadata DB."""
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        run = session.query(DagRun).filter_by(dag_id="price_ingestion", run_id=run_id).one_or_none()
        tis = session.query(TaskInstance).filter_by(dag_id="price_ingestion", run_id=run_id).all()
        return (run.state if run else None), [
            {"task": ti.task_id, "state": ti.state, "host": ti.hostname, "celery_id": ti.external_executor_id}
            for ti in tis
        ]


def test_price_ingestion_runs_on_two_celery_workers(clean_stores, pg, redis_client, neo4j_driver, price_patterns,
                                                     tmp_path):  # fmt: skip
    logs = tmp_path / "airflow"
    run_id = f"celery_test__{time.strftime('%Y%m%dT%H%M%S')}"
    parts = ("api-server", "scheduler", "dag-processor", *(f"celery worker {w}" for w in WORKERS))
    started = time.monotonic()
    since = datetime.now(UTC)
    with airflow_components(*parts, logs=logs, env=CELERY):
        wait_until("the dag-processor parsing price_ingestion", lambda: parsed_since(since), seconds=120, logs=logs)
        wait_until("both Celery workers answering on the broker", lambda: celery_nodes() >= set(WORKERS),
                   seconds=60, logs=logs)  # fmt: skip
        subscriber = Subscriber(redis_client, cache.PRICE_UPDATES)
        try:
            unpause_and_trigger(run_id)

            def succeeded() -> bool:
                state, _ = dag_run(run_id)
                assert state != "failed", f"the run failed; see {logs} and the task logs"
                return state == "success"

            wait_until("the triggered run succeeding", succeeded, seconds=240, logs=logs)
        finally:
            subscriber.close()
    print(f"\nprice_ingestion on Celery: {time.monotonic() - started:.0f} s with the components' start")

    # every task instance ran on one of the two workers, which the metadata DB names, and each
    # went through the broker: its Celery task's result is in the result backend (PostgreSQL)
    _, tis = dag_run(run_id)
    hosts = {f"{getfqdn()}:{w}" for w in WORKERS}
    ran_on = Counter(ti["host"] for ti in tis)
    print("task instances per worker:", dict(ran_on))
    assert {ti["state"] for ti in tis} == {"success"}
    assert set(ran_on) <= hosts, f"task instances not on a Celery worker: {ran_on}"
    # more tasks at once (five projections) than one worker's two slots: both workers take some
    assert set(ran_on) == hosts, f"one worker ran everything: {ran_on}"
    results_db = os.environ["AIRFLOW__CELERY__RESULT_BACKEND"].removeprefix("db+")
    assert results_db == os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] and results_db.endswith("_test")
    celery_ids = [ti["celery_id"] for ti in tis]
    with psycopg.connect(results_db.replace("postgresql+psycopg://", "postgresql://")) as conn:
        query = "SELECT task_id, status FROM celery_taskmeta WHERE task_id = ANY(%s)"
        statuses = dict(conn.execute(query, (celery_ids,)).fetchall())
    assert sorted(statuses.values()) == ["SUCCESS"] * len(tis)

    # what the DAG writes: every bar in the ledger, the latest close in Redis and Neo4j, patterns in
    # Chroma, one announcement per symbol after them
    expected = OfflineProvider().fetch(SYMBOLS, date(2022, 6, 1), date(2022, 12, 31))
    per_symbol = dict(pg.execute("SELECT symbol, count(*) FROM price_bar GROUP BY symbol").fetchall())
    assert per_symbol == expected.groupby("symbol").size().to_dict()
    status, stats = pg.execute("SELECT status, stats FROM ingestion_run").fetchone()
    assert status == "succeeded" and stats["accepted"] == len(expected)
    last = expected.groupby("symbol").tail(1).set_index("symbol")
    cached = {symbol: json.loads(redis_client.get(f"price:{symbol}:latest"))["close"] for symbol in SYMBOLS}
    assert cached == pytest.approx(last["close"].to_dict())
    with neo4j_driver.session() as session:
        stocks = dict(session.run("MATCH (s:Stock) RETURN s.symbol, s.close").values())
    assert stocks == pytest.approx(last["close"].to_dict())
    assert {m["symbol"] for m in price_patterns.get(include=["metadatas"])["metadatas"]} == set(SYMBOLS)
    assert sorted(m["symbol"] for m in subscriber.messages) == SYMBOLS

    # the task logs the workers wrote, and every component's, hold no connection password
    task_logs = Path(os.environ["AIRFLOW__LOGGING__BASE_LOG_FOLDER"]) / "dag_id=price_ingestion" / f"run_id={run_id}"
    assert any(p.is_file() for p in task_logs.rglob("*.log"))
    assert leaked_secrets(task_logs, logs) == {}
