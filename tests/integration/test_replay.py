"""Axiom live: ten real sessions released one at a time through the real api-server, scheduler, dag-processor
and triggerer (the AssetWatcher on ``price_updates`` starts every alert run), on the tests' stores; the Axiom
page open in headless Chromium throughout, its live client receiving the alerts as they fire."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from axiom import replay
from axiom.alerts import ALERT_HOP
from axiom.stores import cache, ledger
from axiom.stores.ledger.live import RELEASED
from axiom_airflow.rest import AirflowRest
from tests.support import DevTools, airflow_components

SYMBOLS = ["BAC", "CVX", "JPM", "KO", "XOM"]
FIRST, LAST = date(2020, 2, 18), date(2020, 3, 2)  # ten sessions of the 2020 sell-off
KNOWN = (
    "CVX:XOM:2020-02-28:divergence"  # the spread 2.0 sigma from its mean, cointegrated (p 0.02), half-life 6 sessions
)
PATH = ("price_ingestion.fetch", "price_ingestion.load", "price_ingestion.cache_latest")


@pytest.fixture(scope="module")
def replayed(tmp_path_factory, pg, redis_client, neo4j_driver, chroma_client):
    """The replay of FIRST to LAST (history from mid-2019 backfilled first), what it printed, and what the page's
    live client (opened before the replay started) received and drew."""
    from tests.support import wipe

    wipe(pg, redis_client, neo4j_driver, chroma_client)
    logs = tmp_path_factory.mktemp("airflow")
    lines: list[str] = []
    params = replay.ReplayParams(
        first=FIRST, last=LAST, symbols=SYMBOLS, every_seconds=0, history_from=date(2019, 6, 3)
    )
    # live streams end every 60 s: the page's EventSource resumes from its Last-Event-ID several times meanwhile
    live = {"AXIOM_LIVE_STREAM_SECONDS": "60"}
    with airflow_components("api-server", "scheduler", "dag-processor", "triggerer", logs=logs, env=live) as url:
        browser = DevTools(tmp_path_factory.mktemp("chromium") / "profile")
        try:
            browser.call("Page.navigate", url=f"{url}/axiom/")
            browser.wait_for("document.body && document.body.dataset.live === 'open'", seconds=60, what="no stream")
            airflow = AirflowRest(url)
            try:
                summary = replay.replay(pg, redis_client, params, airflow, say=lines.append)
            finally:
                airflow.close()
            fired = len(ledger.signals.between(pg, FIRST, LAST))
            browser.wait_for(f"window.axiomLive.received.length >= {fired}", seconds=30, what="alerts not received")
            browser.wait_for("document.getElementById('live-session').textContent.includes('finished')", seconds=30,
                             what="the replay's end not shown")  # fmt: skip
            page = browser.evaluate(
                "({received: window.axiomLive.received, session: document.body.dataset.liveSession,"
                " drawn: [...document.querySelectorAll('#live-alerts li')].map((li) => li.dataset.signal),"
                " charts: document.querySelectorAll('#live-alerts li canvas').length, opens: window.axiomLive.opens})"
            )
        finally:
            browser.close()
    return summary, lines, page


def test_every_session_flows_the_whole_path_once_in_order(replayed, pg):
    summary, lines, _ = replayed
    sessions = replay.sessions("offline", SYMBOLS, FIRST, LAST)
    assert len(sessions) == 10 and summary["sessions"] == 10
    assert [line.split(":")[0] for line in lines[1:-1]] == [s.isoformat() for s in sessions]  # a line per session
    hops = ledger.live.hops(pg, FIRST, LAST)
    for session in sessions:
        stamped = hops[session]
        # the announcement publishes during its work: the alert run may start before its stamp is written
        announce = stamped["price_ingestion.announce"]["started_at"]
        path = [stamped[RELEASED]["at"], *(stamped[h]["at"] for h in PATH), announce, stamped[ALERT_HOP]["started_at"]]
        assert path == sorted(path), f"{session}: the hops are out of order"
        assert ledger.prices.bar_count_on(pg, session) == len(SYMBOLS)
    # the clock stands on the last session; the correlations (and so the CORRELATED_WITH edges) on it too
    current = ledger.live.current(pg)
    assert (current.clock, current.state) == (LAST, "finished")
    assert max(ledger.correlations.as_of_dates(pg)[30]) == LAST


def test_the_alerts_equal_the_offline_recomputation_none_missing_doubled_or_late(replayed, pg, redis_client):
    summary, lines, _ = replayed
    c = summary["comparison"]
    assert c["alerts"] == c["expected"] == c["equal"] > 0
    assert c["missing"] == c["extra"] == c["doubled"] == c["unstreamed"] == []
    fired = {ledger.signals.signal_id(s) for s in ledger.signals.between(pg, FIRST, LAST)}
    assert KNOWN in fired
    assert sorted(cache.streamed_ids(redis_client)) == sorted(fired)  # each on the stream once
    assert lines[-1].startswith(f"alerts: {c['alerts']} fired over 10 sessions")


def test_a_second_replay_of_the_same_stretch_resumes_and_releases_nothing_twice(replayed, pg, redis_client):
    """Started again (as after a stop), the replay finds every session in the ledger: nothing is triggered."""

    class Refuses:
        def unpause(self, dag_id: str) -> None:
            pass

        def trigger(self, dag_id: str, conf: dict, *, label: str) -> str:
            raise AssertionError(f"{dag_id} triggered again for {label}")

    lines: list[str] = []
    params = replay.ReplayParams(first=FIRST, last=LAST, symbols=SYMBOLS, every_seconds=0)
    again = replay.replay(pg, redis_client, params, Refuses(), say=lines.append)
    assert "10 released before" in lines[0]
    assert again["comparison"]["equal"] == replayed[0]["comparison"]["equal"]


def test_the_page_live_client_received_every_alert_exactly_once_and_drew_each(replayed, pg):
    page = replayed[2]
    fired = sorted(ledger.signals.signal_id(s) for s in ledger.signals.between(pg, FIRST, LAST))
    assert KNOWN in fired
    assert sorted(page["received"]) == fired and set(Counter(page["received"]).values()) == {1}
    assert sorted(page["drawn"]) == fired and page["charts"] == len(fired)  # each with its spread chart
    assert page["session"] == LAST.isoformat()  # the snapshot followed the clock to the last session
    assert page["opens"] >= 3  # resumed after each stream's end (60 s here), none missed or repeated


def test_the_replay_provider_serves_nothing_after_the_clock(replayed, pg):
    from axiom.sources.prices import get_provider

    provider = get_provider("replay", conn=pg)
    bars = provider.fetch(SYMBOLS, None, date(2022, 12, 31))
    assert bars["ts"].max().date() == LAST
    assert provider.fetch(SYMBOLS, date(2020, 3, 3), None).empty
