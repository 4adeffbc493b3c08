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


def stop_server(store: str, signum: int = signal.SIGTERM) -> None:
    """Signal the test server by the PID its start recorded (SIGTERM stops it, SIGKILL crashes it); wait until gone."""
    pid = int(SERVERS[store].read_text())
    os.kill(pid, signum)
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


WAITING = (
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND state = 'active'"
    " AND wait_event_type = 'Lock' AND query LIKE %s AND pid <> pg_backend_pid()"
)
LOCK_WAIT, COPY_WAIT = "SELECT pg_advisory_xact_lock%", "COPY price_bar %"


def admin():
    """A second ledger connection to watch (and cut) the loads from."""
    from axiom import connections

    return connections.postgres()


def waiting_loads(conn, query: str) -> list[int]:
    """Backends of loads waiting on a lock while running ``query`` (a LIKE pattern)."""
    return [r[0] for r in conn.execute(WAITING, (query,)).fetchall()]


@contextmanager
def load_lock(symbol: str = "AAPL"):
    """Hold a symbol's load lock (the one ``load_bars`` takes first), so a load waits inside its transaction
    until the lock is released (``release()``) or the block ends."""
    holder = admin()
    key = f"price_bar:{symbol}"
    holder.execute("SELECT pg_advisory_lock(hashtext(%s))", (key,))
    try:
        yield lambda: holder.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,))
    finally:
        holder.close()


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

    def stop_then_restart(release) -> None:
        """While the load waits on its lock: stop the server and wait until it is gone, then let the load go
        on (the first write to the store fails); start the server again once Airflow put that step up for retry."""
        with admin() as watch:
            if poll(lambda: waiting_loads(watch, LOCK_WAIT)):
                stop_server(store)
                release()
                if poll(lambda: any(s == "up_for_retry" for s, _ in new_states("price_ingestion", step, before))):
                    start_servers()
                    restarted.set()

    try:
        with load_lock() as release, beside(lambda: stop_then_restart(release)):
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
    connection is cut by the server (pg_terminate_backend) in the middle of its COPY, after it wrote rows."""
    import psycopg

    before = task_states("price_ingestion", "load")
    # an uncommitted bar at the last key the load writes: its COPY writes AAPL's and KO's bars, then waits
    blocker = psycopg.connect(pg.info.dsn, password=pg.info.password)
    blocker.execute(
        "INSERT INTO price_bar (symbol, interval, ts, close, adjusted, source, run_id)"
        " VALUES ('MSFT', '1d', '2022-12-28T00:00:00Z', 1.0, true, 'test', 0)"
    )
    cut, rows = threading.Event(), {}

    def cut_the_copy() -> None:
        with admin() as watch:
            if poll(lambda: waiting_loads(watch, COPY_WAIT)):
                [pid] = waiting_loads(watch, COPY_WAIT)
                # the COPY has written its rows (uncommitted, unseen, but on disk) before it waits
                rows["bytes"] = watch.execute("SELECT pg_relation_size('price_bar')").fetchone()[0]
                watch.execute("SELECT pg_terminate_backend(%s)", (pid,))
                rows["after_cut"] = watch.execute("SELECT count(*) FROM price_bar").fetchone()[0]
                blocker.rollback()
                cut.set()

    try:
        with beside(cut_the_copy):
            run = patient.test(run_conf=CONF)
    finally:
        blocker.close()
    assert cut.is_set() and rows["bytes"] > 2 * 8192  # pages of bars beyond the blocker's one were written
    assert rows["after_cut"] == 0  # and went with the transaction the cut connection had open
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

    with pytest.raises(ParamValidationError, match=r"param k: 0\.1 is less than the minimum of 1"):
        dagbag.dags["market_events"].test(run_conf={"k": 0.1})


def test_overlapping_writers_lose_and_double_nothing(dagbag, clean_stores, pg):
    """A DAG run and a CLI ingest of the same symbols and dates, made to overlap: both loads wait on a
    symbol's lock at the same time, then go."""
    overlapped = threading.Event()

    def both_waiting(release) -> None:
        with admin() as watch:
            if poll(lambda: len(waiting_loads(watch, LOCK_WAIT)) == 2):
                overlapped.set()
            release()

    with load_lock() as release, beside(lambda: both_waiting(release)):
        cli = subprocess.Popen(
            [sys.executable, "-m", "axiom", "ingest", "--symbols", ",".join(CONF["symbols"]), "--start",
             CONF["start"], "--end", CONF["end"], "--provider", "offline"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        run = dagbag.dags["price_ingestion"].test(run_conf=CONF)
        output, _ = cli.communicate(timeout=600)
    assert overlapped.is_set(), "the two loads never waited side by side"
    assert run.state == "success" and cli.returncode == 0, output[-2000:]
    expected = OfflineProvider().fetch(CONF["symbols"], START, END)
    held = ledger.prices.closes(pg, CONF["symbols"])
    assert len(held) == len(expected) == bar_count(pg)
    for frame in (held, expected):
        frame["ts"] = frame["ts"].astype("datetime64[us, UTC]")
    merged = held.merge(expected, on=["symbol", "ts"], suffixes=("", "_provider"))
    assert len(merged) == len(expected) and (merged["close"] == merged["close_provider"]).all()
