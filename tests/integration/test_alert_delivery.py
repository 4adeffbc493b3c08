"""Delivery of alerts through ``signal:stream``, on the real stores: once per signal however a try dies, and
read by consumers that die, meet entries that carry no signal, or run side by side as processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from axiom import alerts
from axiom.stores import cache, ledger
from tests.integration import test_alerts
from tests.integration.test_alerts import MECHANICS, append_session
from tests.integration.test_faults import admin, beside, new_states, poll, task_states, waiting_loads
from tests.support import Subscriber

correlated = test_alerts.correlated  # the fixture: XOM and CVX drawn as CORRELATED_WITH

MARKING = "UPDATE signal SET streamed_at%"


def a_signal(day: int, a: str = "CVX", b: str = "XOM") -> dict:
    """A divergence of ``a``/``b`` on 2022-12-``day``, shaped as the stream carries one (test values)."""
    return {"a": a, "b": b, "session": f"2022-12-{day:02d}", "kind": "divergence", "z": -3.1, "coefficient": 0.91,
            "beta": 0.8, "moved": b, "return_a": -0.01, "return_b": 0.06, "close_a": 170.5, "close_b": 110.2,
            "trade": f"sell {b}, buy {a}", "stats": {"pvalue": 0.02, "half_life": 4.0}}  # fmt: skip


def stream(redis_client, *signals: dict) -> list[str]:
    return cache.stream_signals(redis_client, {ledger.signals.signal_id(s): s for s in signals}).entry_ids


def stream_ids(redis_client) -> list[str]:
    """The ledger id of every entry on the stream, oldest first."""
    return [f[b"id"].decode() for _, f in redis_client.xrange(cache.SIGNAL_STREAM)]


def test_a_try_that_died_between_streaming_and_marking_is_retried_and_streams_each_signal_once(
    dagbag, correlated, pg, redis_client, neo4j_driver
):
    """The real DAG, its retry a real re-run: the task's ledger connection is cut by the server while it waits to
    mark the signal streamed, after the XADD."""
    append_session(pg, "2022-12-29", {"XOM": 0.06, "CVX": -0.01, "KO": 0.0})
    [found] = alerts.detect(pg, neo4j_driver, MECHANICS)
    assert ledger.signals.record(pg, [found]) == 1  # kept already, so the mark is the task's only write to wait
    before = task_states("divergence_alerts", "alert")
    blocker = admin()
    blocker.autocommit = False
    blocker.execute("SELECT 1 FROM signal FOR UPDATE")  # the UPDATE of mark_streamed waits on this row
    seen = {}

    def cut_while_marking() -> None:
        try:
            with admin() as watch:
                if poll(lambda: waiting_loads(watch, MARKING), seconds=300):
                    seen["entries_before_cut"] = redis_client.xlen(cache.SIGNAL_STREAM)
                    [pid] = waiting_loads(watch, MARKING)
                    watch.execute("SELECT pg_terminate_backend(%s)", (pid,))
        finally:
            blocker.rollback()  # whatever happened, the task's retry is not left waiting

    live = Subscriber(redis_client, cache.SIGNAL_UPDATES)
    try:
        with beside(cut_while_marking):
            run = dagbag.dags["divergence_alerts"].test(run_conf={"max_pvalue": 1.0})
    finally:
        live.close()
        blocker.close()
    assert seen.get("entries_before_cut") == 1, "the try was not cut after its XADD"
    assert run.state == "success"
    [(state, tries)] = new_states("divergence_alerts", "alert", before)
    assert (state, tries) == ("success", 2)  # the first try died, Airflow ran it again
    assert redis_client.xlen(cache.SIGNAL_STREAM) == 1  # once on the stream
    assert [m["moved"] for m in live.messages] == ["XOM"]  # and once on the channel
    signal_id = ledger.signals.signal_id(found)
    assert stream_ids(redis_client) == [signal_id]
    assert ledger.signals.unstreamed(pg) == []
    assert alerts.alert(pg, neo4j_driver, redis_client, MECHANICS)["streamed"] == 0
    assert stream_ids(redis_client) == [signal_id]


def test_a_signal_streamed_again_is_not_added_again(clean_stores, redis_client):
    first = stream(redis_client, a_signal(28), a_signal(29))
    again = cache.stream_signals(redis_client, {ledger.signals.signal_id(s): s for s in (a_signal(29), a_signal(30))})
    assert again.added == 1 and again.entry_ids[0] == first[1]  # the 29th is where it was
    assert stream_ids(redis_client) == [f"CVX:XOM:2022-12-{d}:divergence" for d in (28, 29, 30)]


def test_the_entries_of_a_consumer_that_died_are_claimed_by_another(clean_stores, redis_client):
    stream(redis_client, a_signal(28), a_signal(29))
    held = [e for e, _ in cache.read_signals(redis_client, group="desk", consumer="died")]
    assert len(held) == 2  # delivered to "died", which never acknowledges them
    # not idle long enough yet: a member that is only slow keeps its entries
    assert cache.read_signals(redis_client, group="desk", consumer="alive", block_ms=100, claim_idle_ms=60_000) == []
    time.sleep(0.3)
    claimed = cache.read_signals(redis_client, group="desk", consumer="alive", claim_idle_ms=200)
    assert [e for e, _ in claimed] == held and [s["session"] for _, s in claimed] == ["2022-12-28", "2022-12-29"]
    assert cache.acknowledge(redis_client, "desk", held) == 2
    assert redis_client.xpending(cache.SIGNAL_STREAM, "desk")["pending"] == 0
    assert cache.read_signals(redis_client, group="desk", consumer="alive", block_ms=100, claim_idle_ms=0) == []


def test_an_entry_that_carries_no_signal_is_dead_lettered_with_its_reason_and_acknowledged(clean_stores, redis_client):
    not_json = redis_client.xadd(cache.SIGNAL_STREAM, {"signal": b"{not json"}).decode()
    [good] = stream(redis_client, a_signal(29))
    no_field = redis_client.xadd(cache.SIGNAL_STREAM, {"other": "x"}).decode()
    half = {k: v for k, v in a_signal(30).items() if k != "moved"}
    no_moved = redis_client.xadd(cache.SIGNAL_STREAM, {"signal": json.dumps(half)}).decode()
    bad_z = redis_client.xadd(cache.SIGNAL_STREAM, {"signal": json.dumps({**a_signal(30), "z": "high"})}).decode()
    read = cache.read_signals(redis_client, group="desk", consumer="trader")
    assert [(e, s["session"]) for e, s in read] == [(good, "2022-12-29")]
    dead = {f[b"entry"].decode(): f for _, f in redis_client.xrange(cache.DEAD_SIGNALS)}
    assert sorted(dead) == sorted([not_json, no_field, no_moved, bad_z])
    assert b"not JSON" in dead[not_json][b"reason"] and dead[not_json][b"field:signal"] == b"{not json"
    assert dead[no_field][b"reason"] == b"the entry has no 'signal' field" and dead[no_field][b"field:other"] == b"x"
    assert dead[no_moved][b"reason"] == b"field 'moved' is missing"
    assert dead[bad_z][b"reason"] == b"field 'z' is 'high', not a number"
    assert {(f[b"group"], f[b"consumer"]) for f in dead.values()} == {(b"desk", b"trader")}
    # acknowledged: only the good one is pending, and once it is acknowledged nothing comes back
    pending = redis_client.xpending_range(cache.SIGNAL_STREAM, "desk", "-", "+", 10)
    assert [p["message_id"] for p in pending] == [good.encode()]
    cache.acknowledge(redis_client, "desk", [good])
    assert cache.read_signals(redis_client, group="desk", consumer="trader", block_ms=100) == []
    assert [s["session"] for s in cache.latest_signals(redis_client)] == ["2022-12-29"]
    # an entry deleted while pending comes back without fields: dead-lettered too, not delivered forever
    [gone] = stream(redis_client, a_signal(31))
    assert [e for e, _ in cache.read_signals(redis_client, group="desk", consumer="trader")] == [gone]
    redis_client.xdel(cache.SIGNAL_STREAM, gone)
    assert cache.read_signals(redis_client, group="desk", consumer="trader", block_ms=100) == []
    [(_, last)] = redis_client.xrevrange(cache.DEAD_SIGNALS, count=1)
    assert (last[b"entry"].decode(), last[b"reason"]) == (gone, b"the entry was deleted from the stream")
    assert redis_client.xpending(cache.SIGNAL_STREAM, "desk")["pending"] == 0


# ``python -m axiom`` with Ctrl-C at its default, as a terminal starts it: a run of the tests started in the
# background by a non-interactive shell ignores SIGINT, and a child would inherit that (stop() sends SIGINT)
AS_FROM_A_TERMINAL = (
    "import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler);"
    " runpy.run_module('axiom', run_name='__main__', alter_sys=True)"
)


class Follower:
    """``python -m axiom signals --follow`` as a process of its own, its output (stdout and stderr) collected."""

    def __init__(self, group: str):
        self.process = subprocess.Popen(
            [sys.executable, "-c", AS_FROM_A_TERMINAL, "signals", "--follow", "--group", group],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        self.lines: list[str] = []
        self.thread = threading.Thread(target=self._collect, daemon=True)
        self.thread.start()

    def _collect(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    def said(self, text: str) -> list[str]:
        return [line for line in list(self.lines) if text in line]

    def wait_for(self, text: str, seconds: float = 120) -> str:
        if not poll(lambda: self.said(text) or self.process.poll() is not None, seconds) or not self.said(text):
            pytest.fail(f"the follower never said {text!r}; it said: {''.join(self.lines)[-3000:]}")
        return self.said(text)[0]

    def stop(self) -> int:
        """Ctrl-C, as a user stops it; its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise
        finally:
            self.thread.join(timeout=5)


def test_each_follower_process_is_a_consumer_of_its_own_and_leaves_when_stopped(clean_stores, redis_client):
    followers = [Follower("desk"), Follower("desk")]
    try:
        names = [f.wait_for("following signal:stream as").split(" as ")[1].split(" of group")[0] for f in followers]
        assert names[0] != names[1]
        assert [n.rsplit("-", 1)[1] for n in names] == [str(f.process.pid) for f in followers]
        stream(redis_client, a_signal(29))
        assert poll(lambda: sum(len(f.said("CVX/XOM")) for f in followers) == 1, 60)
        time.sleep(1)
        assert sum(len(f.said("CVX/XOM")) for f in followers) == 1  # one member of the group, once
    finally:
        codes = [f.stop() for f in followers]
    assert codes == [0, 0]
    assert redis_client.xinfo_consumers(cache.SIGNAL_STREAM, "desk") == []  # both left, holding nothing
