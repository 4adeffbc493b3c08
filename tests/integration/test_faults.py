"""Honest runs under faults, against the real services: a store's server stopped by its process id during a
Pipeline 1 run and started again, a store that stays away, overlapping writers, a Param no retry can fix.

The servers stopped here are the tests' own (``services.sh start-test``); a user's are never touched.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import pytest

from axiom import projections
from axiom.sources.prices import OfflineProvider
from axiom.stores import ledger

ROOT = Path(__file__).resolve().parents[2]
STATE = Path(os.environ.get("STATE", ROOT / ".state"))
SERVERS = {
    "redis": STATE / "redis-test" / "redis.pid",
    "neo4j": STATE / "neo4j-test" / "neo4j.pid",
    "chroma": STATE / "chroma-test" / "chroma.pid",
}
FIRST_USE = {"redis": "cache_latest", "neo4j": "graph_stocks", "chroma": "vectorise_patterns"}
START, END = date(2022, 1, 1), date(2022, 12, 31)
CONF = {"symbols": ["AAPL", "MSFT", "KO"], "start": str(START), "end": str(END), "provider": "offline"}


def stop_server(store: str) -> None:
    """SIGTERM the test server by the PID its start recorded, and wait until it is gone."""
    pid = int(SERVERS[store].read_text())
    os.kill(pid, signal.SIGTERM)
    for _ in range(120):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.5)
    pytest.fail(f"the {store} test server (pid {pid}) did not stop")


def start_servers() -> None:
    subprocess.run([str(ROOT / "scripts" / "services.sh"), "start-test"], check=True, capture_output=True)


def task_states(dag_id: str, task_id: str) -> dict[str, tuple[str, int]]:
    """Run id -> (state, try number) of ``task_id`` in every run of ``dag_id`` in the tests' metadata database."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(TaskInstance).filter(TaskInstance.dag_id == dag_id, TaskInstance.task_id == task_id)
        return {ti.run_id: (ti.state, ti.try_number) for ti in rows}


def new_states(dag_id: str, task_id: str, before: dict) -> list[tuple[str, int]]:
    return [v for run_id, v in task_states(dag_id, task_id).items() if run_id not in before]


@pytest.fixture
def patient(dagbag, monkeypatch):
    """Pipeline 1 with retries long enough for a server to come back (the default is 2 retries 30 s apart)."""
    dag = dagbag.dags["price_ingestion"]
    for task in dag.tasks:
        monkeypatch.setattr(task, "retries", 8)
        monkeypatch.setattr(task, "retry_delay", timedelta(seconds=8))
    return dag


@contextmanager
def beside(fault) -> None:
    """Run ``fault`` in a thread while the block (a DAG run) runs."""
    thread = threading.Thread(target=fault, daemon=True)
    thread.start()
    try:
        yield
    finally:
        thread.join(timeout=5)


def poll(check, seconds: float = 240) -> bool:
    for _ in range(int(seconds * 10)):
        if check():
            return True
        time.sleep(0.1)
    return False


def bar_count(pg) -> int:
    return pg.execute("SELECT count(*) FROM price_bar").fetchone()[0]


@pytest.mark.parametrize("store", ["redis", "chroma", "neo4j"])
def test_a_store_stopped_mid_run_fails_its_task_then_the_retry_completes_the_run(
    store, patient, clean_stores, pg, redis_client, neo4j_driver, chroma_client
):
    step = FIRST_USE[store]
    before = task_states("price_ingestion", step)
    restarted = threading.Event()

    def stop_then_restart() -> None:
        """Stop the server once the run's rows are validated (the ledger load runs next, then the first write
        to the store fails); start it again once Airflow has put that step up for retry."""
        if poll(lambda: ("success", 1) in new_states("price_ingestion", "validate", validated)):
            stop_server(store)
            if poll(lambda: any(s == "up_for_retry" for s, _ in new_states("price_ingestion", step, before))):
                start_servers()
                restarted.set()

    validated = task_states("price_ingestion", "validate")
    try:
        with beside(stop_then_restart):
            run = patient.test(run_conf=CONF)
    finally:
        start_servers()  # whatever happened, the next tests find their servers up
    assert restarted.is_set(), f"{step} never failed while {store} was down"
    assert run.state == "success"
    [(state, tries)] = new_states("price_ingestion", step, before)
    assert state == "success" and tries > 1  # it failed, Airflow retried it
    [status] = pg.execute("SELECT status FROM ingestion_run").fetchall()
    assert status == ("succeeded",)  # one run row, reused by the retries
    assert bar_count(pg) == len(OfflineProvider().fetch(CONF["symbols"], START, END))
    drift = projections.doctor(pg, redis_client, neo4j_driver, chroma_client, window=30)
    assert [d.as_dict() for d in drift if d.drifted] == []


def test_the_ledger_connection_lost_inside_the_load_rolls_back_and_the_retry_loads_everything(
    patient, clean_stores, pg
):
    """PostgreSQL also holds Airflow's metadata, so its server is not stopped here: the load's own
    connection is cut by the server (pg_terminate_backend) while its transaction is open."""
    import psycopg

    from axiom import connections

    before = task_states("price_ingestion", "load")
    holder = connections.postgres()  # holds a symbol's load lock, so the load waits inside its transaction
    holder.execute("SELECT pg_advisory_lock(hashtext('price_bar:AAPL'))")
    cut, rows_when_cut = threading.Event(), []

    def cut_the_waiting_load() -> None:
        with psycopg.connect(pg.info.dsn, password=pg.info.password, autocommit=True) as admin:
            waiting = ("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND state = 'active'"
                       " AND query LIKE 'SELECT pg_advisory_xact_lock%' AND pid <> pg_backend_pid()")  # fmt: skip
            if poll(lambda: admin.execute(waiting).fetchone() is not None):
                admin.execute(f"SELECT pg_terminate_backend(pid) FROM ({waiting}) AS w")
                rows_when_cut.append(admin.execute("SELECT count(*) FROM price_bar").fetchone()[0])
                holder.execute("SELECT pg_advisory_unlock(hashtext('price_bar:AAPL'))")
                cut.set()

    try:
        with beside(cut_the_waiting_load):
            run = patient.test(run_conf=CONF)
    finally:
        holder.close()
    assert cut.is_set() and rows_when_cut == [0]  # the open transaction wrote nothing that stays
    assert run.state == "success"
    [(state, tries)] = new_states("price_ingestion", "load", before)
    assert state == "success" and tries == 2
    assert bar_count(pg) == len(OfflineProvider().fetch(CONF["symbols"], START, END))


def test_a_run_whose_store_stays_away_is_marked_failed_with_the_reason(dagbag, clean_stores, pg, monkeypatch):
    before = task_states("price_ingestion", "vectorise_patterns")
    monkeypatch.setenv("AIRFLOW_CONN_AXIOM_CHROMA", "chroma://127.0.0.1:9?database=axiom_test")  # nothing listens
    run = dagbag.dags["price_ingestion"].test(run_conf=CONF)
    assert run.state == "failed"
    status, stats = pg.execute("SELECT status, stats FROM ingestion_run").fetchone()
    assert status == "failed"
    task, reason = stats["failure"].split(": ", 1)  # the first of the two Chroma steps to give up
    assert task in ("vectorise_patterns", "vectorise_sector_profiles") and "Could not connect to a Chroma" in reason
    assert bar_count(pg) > 0  # what reached the ledger stays: a retry or a rebuild projects it
    assert new_states("price_ingestion", "vectorise_patterns", before) == [("failed", 3)]  # tried, retried twice


def test_a_param_no_retry_can_fix_fails_at_once(dagbag, clean_stores, pg):
    before = task_states("price_ingestion", "fetch")
    run = dagbag.dags["price_ingestion"].test(run_conf={**CONF, "start": "2022-12-31", "end": "2022-01-01"})
    assert run.state == "failed"
    assert new_states("price_ingestion", "fetch", before) == [("failed", 1)]  # no retries spent on it
    assert pg.execute("SELECT count(*) FROM ingestion_run").fetchone()[0] == 0


def test_a_param_the_schema_can_bound_is_refused_at_the_trigger(dagbag):
    from airflow.sdk.definitions.param import ParamValidationError

    with pytest.raises(ParamValidationError, match="k"):
        dagbag.dags["market_events"].test(run_conf={"k": 0.1})


def test_overlapping_writers_lose_and_double_nothing(dagbag, clean_stores, pg):
    """A DAG run and a CLI ingest of the same symbols and dates at the same time."""
    cli = subprocess.Popen(
        [sys.executable, "-m", "axiom", "ingest", "--symbols", ",".join(CONF["symbols"]), "--start", CONF["start"],
         "--end", CONF["end"], "--provider", "offline"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    run = dagbag.dags["price_ingestion"].test(run_conf=CONF)
    output, _ = cli.communicate(timeout=600)
    assert run.state == "success" and cli.returncode == 0, output[-2000:]
    expected = OfflineProvider().fetch(CONF["symbols"], START, END)
    held = ledger.prices.closes(pg, CONF["symbols"])
    assert len(held) == len(expected) == bar_count(pg)
    for frame in (held, expected):
        frame["ts"] = frame["ts"].astype("datetime64[us, UTC]")
    merged = held.merge(expected, on=["symbol", "ts"], suffixes=("", "_provider"))
    assert len(merged) == len(expected) and (merged["close"] == merged["close_provider"]).all()
