"""Alerts when the tests' Redis goes away: a follower that waits for it to come back, and streamed alerts that
survive its crash (the append-only file). The server is stopped by its PID, as in test_faults.py."""

from __future__ import annotations

import signal

from axiom import alerts
from axiom.stores import cache, ledger
from tests.integration import test_alerts
from tests.integration.test_alert_delivery import Follower, a_signal, stream, stream_ids
from tests.integration.test_alerts import MECHANICS, append_session
from tests.integration.test_faults import poll, start_servers, stop_server

correlated = test_alerts.correlated  # the fixture: XOM and CVX drawn as CORRELATED_WITH


def test_a_follower_waits_while_redis_is_away_and_prints_an_alert_published_after_it_came_back(
    clean_stores, redis_client
):
    follower = Follower("desk")
    try:
        follower.wait_for("following signal:stream as")
        stop_server("redis")
        follower.wait_for("redis is unavailable")
        start_servers()
        follower.wait_for("following signal:stream again")
        stream(redis_client, a_signal(29))
        line = follower.wait_for("CVX/XOM")
        assert line.startswith("2022-12-29  CVX/XOM  XOM moved")
        assert follower.process.poll() is None  # it kept following
    finally:
        start_servers()  # whatever happened, the next tests find their Redis up
        code = follower.stop()
    assert code == 0


def test_alerts_the_ledger_marked_streamed_survive_a_redis_crash(correlated, pg, redis_client, neo4j_driver):
    for day, moves in (("2022-12-29", {"XOM": 0.06, "CVX": -0.01}), ("2022-12-30", {"XOM": 0.02, "CVX": -0.01})):
        append_session(pg, day, moves)
        assert alerts.alert(pg, neo4j_driver, redis_client, MECHANICS)["streamed"] == 1, day
    assert ledger.signals.unstreamed(pg) == []  # the ledger's mark: from here on the stream must hold them
    # Redis writes the AOF before it replies; only a slow fsync can make it hold a write back (up to 2 s)
    assert poll(lambda: redis_client.info("persistence").get("aof_buffer_length") == 0, 5), "the AOF is off"
    try:
        stop_server("redis", signal.SIGKILL)  # a crash: no shutdown save
    finally:
        start_servers()
    assert [s["session"] for s in cache.latest_signals(redis_client)] == ["2022-12-30", "2022-12-29"]
    assert sorted(stream_ids(redis_client)) == sorted(ledger.signals.signal_id(s) for s in ledger.signals.latest(pg))
    # and what sends each signal once came back with them: streaming them again adds nothing
    again = {ledger.signals.signal_id(s): s for s in ledger.signals.latest(pg)}
    assert cache.stream_signals(redis_client, again).added == 0
