"""Divergence alerts from the real stores: once in the ledger, once on the stream, once on the channel."""

from __future__ import annotations

import math
import os
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from axiom import alerts, delivery
from axiom.stores import cache, ledger
from tests.support import Subscriber, airflow_components, leaked_secrets, wait_until

PRICES = {"symbols": ["XOM", "CVX", "KO", "PG"], "start": "2022-06-01", "end": "2022-12-31", "provider": "offline"}
CORRELATIONS = {"symbols": ["XOM", "CVX", "KO", "PG"], "window": 30, "threshold": 0.7}
# The delivery tests' rule: a spread 2 sigma from its mean on any correlated pair. Over the last 120 sessions of
# 2022 CVX/XOM are not cointegrated (Engle-Granger p 0.30 after XOM's appended jump), so the default rule
# rightly raises no alert there; these tests are about getting an alert out once, not about which pairs qualify.
MECHANICS = alerts.AlertParams(max_pvalue=1.0)


@pytest.fixture
def correlated(dagbag, clean_stores, pg):
    """XOM and CVX, KO and PG drawn as CORRELATED_WITH (r >= 0.8 over the last 30 sessions of 2022)."""
    for dag_id, conf in (("price_ingestion", PRICES), ("correlations", CORRELATIONS)):
        assert dagbag.dags[dag_id].test(run_conf=conf).state == "success", dag_id
    [pair] = [r for r in ledger.correlations.correlations(pg) if (r["a"], r["b"]) == ("CVX", "XOM")]
    assert pair["coefficient"] >= 0.8
    return pair


def append_session(pg, day: str, moves: dict[str, float]) -> None:
    """A test session after the offline history: each symbol's last close times (1 + move)."""
    rows = []
    for symbol, move in moves.items():
        last = ledger.prices.latest_bars(pg, [symbol])[0]["close"]
        rows.append({"symbol": symbol, "interval": "1d", "ts": pd.Timestamp(day, tz="UTC"), "open": None, "high": None,
                     "low": None, "close": last * (1 + move), "volume": None})  # fmt: skip
    ledger.prices.load_bars(pg, pd.DataFrame(rows), run_id=0, source="test", adjusted=True)


def test_a_divergent_session_is_alerted_once_everywhere(correlated, pg, redis_client, neo4j_driver):
    append_session(pg, "2022-12-29", {"XOM": 0.06, "CVX": -0.01, "KO": 0.0})  # XOM jumps, its twin does not
    live = Subscriber(redis_client, cache.SIGNAL_UPDATES)
    try:
        first = alerts.alert(pg, neo4j_driver, redis_client, MECHANICS)
        again = alerts.alert(pg, neo4j_driver, redis_client, MECHANICS)
    finally:
        live.close()
    assert (first["new"], first["streamed"]) == (1, 1) and (again["new"], again["streamed"]) == (0, 0)
    [row] = ledger.signals.latest(pg)
    assert (row["a"], row["b"], row["moved"], str(row["session"])) == ("CVX", "XOM", "XOM", "2022-12-29")
    assert row["z"] <= -2  # CVX (a) fell against what XOM (b) predicts
    assert "sell XOM, buy CVX" in row["trade"] and "back at its mean" in row["trade"]
    stats = row["stats"]  # the pair statistics, what closes the trade and the (empty) record travel with it
    assert stats["pvalue"] > 0.05 and 1 <= stats["half_life"] <= 30 and stats["formation"] == 120
    assert stats["time_stop_sessions"] == math.ceil(2 * stats["half_life"]) and stats["record"] == {}
    assert stats["record_words"].startswith("no track record")  # said in words, and pushed with the alert's text
    assert delivery.headline(row).endswith(stats["record_words"])
    assert stats["exit_price_a"] > row["close_a"]  # CVX is cheap: the spread closes with CVX higher
    assert len(cache.latest_signals(redis_client)) == 1 and len(live.messages) == 1
    assert live.messages[0]["moved"] == "XOM"


def test_an_unacknowledged_alert_is_delivered_again(correlated, pg, redis_client, neo4j_driver):
    append_session(pg, "2022-12-29", {"XOM": 0.06, "CVX": -0.01})
    alerts.alert(pg, neo4j_driver, redis_client, MECHANICS)
    [(entry, signal)] = cache.read_signals(redis_client, group="desk", consumer="trader")
    assert signal["a"] == "CVX"
    # the trader crashed before acknowledging: the group delivers it again
    assert [e for e, _ in cache.read_signals(redis_client, group="desk", consumer="trader")] == [entry]
    assert cache.acknowledge(redis_client, "desk", [entry]) == 1
    assert cache.read_signals(redis_client, group="desk", consumer="trader", block_ms=100) == []
    # another group, away all along, still reads it
    assert [s["b"] for _, s in cache.read_signals(redis_client, group="risk", consumer="r1")] == ["XOM"]


def test_a_quiet_session_raises_no_alert_and_bad_params_are_refused(correlated, pg, redis_client, neo4j_driver):
    append_session(pg, "2022-12-29", {"XOM": 0.004, "CVX": 0.005})
    assert alerts.alert(pg, neo4j_driver, redis_client, MECHANICS)["found"] == 0
    with pytest.raises(ValueError, match="z_threshold must be at least 1"):
        alerts.AlertParams(z_threshold=0.1)


def test_the_default_rule_wants_a_cointegrated_pair(correlated, pg, redis_client, neo4j_driver):
    """The same jump of XOM is no divergence by the default rule (CVX/XOM not cointegrated over the window); KO's
    jump against PG, a cointegrated pair with a half-life of a few sessions, is."""
    append_session(pg, "2022-12-29", {"XOM": 0.06, "CVX": -0.01, "KO": 0.06, "PG": 0.0})
    [found] = alerts.detect(pg, neo4j_driver, alerts.AlertParams())
    assert (found["a"], found["b"], found["moved"]) == ("KO", "PG", "KO")
    assert found["z"] >= 2 and found["stats"]["pvalue"] <= 0.05 and 1 <= found["stats"]["half_life"] <= 30


def divergence_runs() -> dict[str, tuple[str, list[str]]]:
    """divergence_alerts runs in the tests' metadata database: run id -> (state, triggering asset names)."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        runs = session.query(DagRun).filter(DagRun.dag_id == "divergence_alerts").all()
        return {r.run_id: (r.state, [e.asset.name for e in r.consumed_asset_events]) for r in runs}


def watching(redis_client) -> bool:
    """Whether a triggerer listens on price_updates (pub/sub is at-most-once: publish only then)."""
    return dict(redis_client.pubsub_numsub(cache.PRICE_UPDATES)).get(cache.PRICE_UPDATES.encode(), 0) > 0


def test_a_price_update_on_the_channel_starts_an_alert_run(correlated, pg, redis_client, tmp_path):
    """The event-driven path through the real scheduler, dag-processor, triggerer and api-server (default rule)."""
    append_session(pg, "2022-12-29", {"KO": 0.06, "PG": 0.0})
    logs = tmp_path / "airflow"
    with airflow_components("api-server", "scheduler", "dag-processor", "triggerer", logs=logs):
        unpause = ["airflow", "dags", "unpause", "divergence_alerts"]
        wait_until(
            "the dag-processor parsing divergence_alerts",
            lambda: subprocess.run(unpause, capture_output=True).returncode == 0,
            seconds=180,
            logs=logs,
        )
        wait_until("the triggerer subscribing to price_updates", lambda: watching(redis_client), seconds=180, logs=logs)
        before = set(divergence_runs())
        message = {"symbol": "KO", "close": 1.0, "ts": "2022-12-29T00:00:00+00:00", "interval": "1d", "run_id": 0}
        assert cache.publish(redis_client, cache.PRICE_UPDATES, [message]).received >= 1

        def watched_run_succeeded() -> bool:
            new = [
                state
                for run_id, (state, assets) in divergence_runs().items()
                if run_id not in before and "price_updates" in assets
            ]
            assert "failed" not in new, f"the alert run failed; see {logs}"
            return "success" in new

        wait_until("a successful divergence_alerts run started by the message", watched_run_succeeded,
                   seconds=240, logs=logs)  # fmt: skip
    [row] = ledger.signals.latest(pg)
    assert (row["a"], row["b"], row["moved"]) == ("KO", "PG", "KO")
    assert len(cache.latest_signals(redis_client)) == 1
    # the task's real log, and every component's, hold no connection password
    task_logs = Path(os.environ["AIRFLOW__LOGGING__BASE_LOG_FOLDER"])
    assert any(p.is_file() for p in (task_logs / "dag_id=divergence_alerts").rglob("*.log"))
    assert leaked_secrets(task_logs, logs) == {}
