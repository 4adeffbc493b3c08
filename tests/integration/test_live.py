"""The live panel's route, ``/axiom/api/live`` (Server-Sent Events), through a real api-server on loopback, and
the page's live client in headless Chromium: a snapshot of the newest session and prices, then each alert the
alert path streams, with its pair's spread; resumed after Last-Event-ID; refused without credentials; bounded."""

from __future__ import annotations

import contextlib
import json
import math
import queue
import socket
import threading
import time
from datetime import date

import httpx
import pytest

from axiom.stores import cache, ledger
from tests.integration.test_page import MARKUP, SEEN
from tests.support import DevTools, airflow_components, load_stores

SYMBOLS = ["CVX", "KO", "PEP", "XOM"]
NEWEST = date(2022, 12, 27)  # the fixture's newest session; 2022-12-28 lands during a test
MAX_STREAMS = 4  # this api-server's AXIOM_LIVE_MAX_STREAMS


def prices_conf(start: str, end: str) -> tuple[str, dict]:
    return ("price_ingestion", {"symbols": SYMBOLS, "start": start, "end": end, "provider": "offline"})


@pytest.fixture(scope="module")
def api_server(dagbag, pg, redis_client, neo4j_driver, chroma_client, tmp_path_factory):
    """Prices of four symbols to NEWEST through the real pipeline, then a real api-server on loopback."""
    load_stores(dagbag, [prices_conf("2022-06-01", NEWEST.isoformat())], pg=pg, redis_client=redis_client,
                neo4j_driver=neo4j_driver, chroma_client=chroma_client,
                landing=tmp_path_factory.mktemp("landing"))  # fmt: skip
    env = {"AXIOM_LIVE_MAX_STREAMS": str(MAX_STREAMS)}
    with airflow_components("api-server", logs=tmp_path_factory.mktemp("airflow"), env=env) as url:
        yield f"{url}/axiom"


class EventStream:
    """An SSE client on a thread: each event (``event``, ``id``, ``data`` parsed as JSON) into a queue."""

    def __init__(self, url: str, headers: dict | None = None) -> None:
        self.events: queue.Queue = queue.Queue()
        self.comments = 0
        self.response: httpx.Response | None = None
        self._opened = threading.Event()
        self._client = httpx.Client(timeout=httpx.Timeout(10, read=60))
        self._thread = threading.Thread(target=self._read, args=(url, headers or {}), daemon=True)
        self._thread.start()
        assert self._opened.wait(30), "the live route did not answer"

    def _read(self, url: str, headers: dict) -> None:
        try:
            with self._client.stream("GET", url, headers=headers) as response:
                self.response = response
                if response.status_code != 200:
                    response.read()
                self._opened.set()
                event: dict = {}
                for line in response.iter_lines():
                    if line.startswith(":"):
                        self.comments += 1
                    elif line:
                        name, _, value = line.partition(":")
                        event[name] = json.loads(value.strip()) if name == "data" else value.strip()
                    elif "data" in event:
                        self.events.put(event)
                        event = {}
        except (httpx.HTTPError, RuntimeError):
            pass  # closed by the test
        finally:
            self._opened.set()

    def next(self, seconds: float = 30) -> dict:
        assert self.response.status_code == 200, (self.response.status_code, self.response.text)
        return self.events.get(timeout=seconds)

    def next_of(self, kind: str, seconds: float = 30) -> dict:
        deadline = time.monotonic() + seconds
        while (event := self.next(max(deadline - time.monotonic(), 0.01)))["event"] != kind:
            pass
        return event

    def nothing_more(self, kind: str, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        try:
            while True:
                if self.next(max(deadline - time.monotonic(), 0.01))["event"] == kind:
                    return False
        except queue.Empty:
            return True

    def close(self) -> None:
        """Hang up as a browser does: shut the socket down (the reading thread is blocked in it)."""
        if self.response is not None and not self.response.is_closed:
            sock = self.response.extensions["network_stream"].get_extra_info("socket")
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._thread.join(10)
        self._client.close()


def fire(pg, redis_client, a: str, b: str, session: date, z: float, *, text: str | None = None) -> str:
    """Keep a divergence of a/b on ``session`` and stream it as ``axiom.alerts.alert`` does after detecting it
    (ledger, then the stream exactly once, then the streamed mark); return its stream entry id."""
    closes = ledger.prices.closes(pg, [a, b], since=session, until=session).set_index("symbol")["close"]
    signal = {
        "a": a, "b": b, "session": session, "kind": "divergence", "z": z, "coefficient": 0.91, "beta": 0.8,
        "moved": text or a, "return_a": -0.03, "return_b": 0.004, "close_a": float(closes[a]),
        "close_b": float(closes[b]), "trade": text or f"mean reversion: buy {a}, sell {b}",
        "stats": {"pvalue": 0.01, "half_life": 6.0, "formation": 120, "record": {}},
    }  # fmt: skip
    assert ledger.signals.record(pg, [signal]) == 1
    pending = ledger.signals.unstreamed(pg)
    streamed = cache.stream_signals(redis_client, {ledger.signals.signal_id(s): s for s in pending})
    ledger.signals.mark_streamed(pg, pending)
    return streamed.entry_ids[-1]


def expected_spread(pg, a: str, b: str, session: date, beta: float) -> list[float]:
    closes = ledger.prices.closes(pg, [a, b], until=session).pivot(index="ts", columns="symbol", values="close")
    both = closes.dropna().tail(60)
    return [round(math.log(x) - beta * math.log(y), 6) for x, y in zip(both[a], both[b], strict=True)]


@pytest.fixture
def streams():
    opened: list[EventStream] = []
    yield opened
    for stream in opened:
        stream.close()


def test_a_snapshot_first_then_again_when_a_new_session_lands(api_server, dagbag, pg, streams, tmp_path, monkeypatch):
    stream = EventStream(f"{api_server}/api/live")
    streams.append(stream)
    assert stream.response.status_code == 200
    assert stream.response.headers["content-type"].startswith("text/event-stream")
    first = stream.next()
    assert first["event"] == "snapshot" and first["id"] == "0-0"  # nothing streamed yet: resume from the start
    assert first["data"]["session"] == NEWEST.isoformat() and first["data"]["replay"] is None
    assert [p["symbol"] for p in first["data"]["prices"]] == SYMBOLS
    assert {(p["session"], p["source"]) for p in first["data"]["prices"]} == {(NEWEST.isoformat(), "redis")}

    monkeypatch.setenv("AXIOM_LANDING_DIR", str(tmp_path / "landing"))
    dag_id, conf = prices_conf("2022-12-28", "2022-12-28")
    assert dagbag.dags[dag_id].test(run_conf=conf).state == "success"
    landed = stream.next_of("snapshot", seconds=60)
    while landed["data"]["prices"][0]["session"] != "2022-12-28":  # a snapshot per stamped hop of the run
        landed = stream.next_of("snapshot", seconds=30)
    data = landed["data"]
    assert data["session"] == "2022-12-28"
    before = ledger.prices.closes(pg, SYMBOLS, since=NEWEST, until=NEWEST).set_index("symbol")["close"]
    for p in data["prices"]:
        assert (p["session"], p["source"], p["previous_session"]) == ("2022-12-28", "redis", NEWEST.isoformat())
        assert p["previous_close"] == pytest.approx(before[p["symbol"]])
        assert p["change"] == pytest.approx(p["close"] / p["previous_close"] - 1, abs=1e-6)


def test_each_alert_arrives_with_its_spread_and_a_resumed_stream_gets_only_later_ones(
    api_server, pg, redis_client, streams
):
    stream = EventStream(f"{api_server}/api/live")
    streams.append(stream)
    start = stream.next_of("snapshot")["id"]
    first = fire(pg, redis_client, "CVX", "XOM", NEWEST, -3.1)
    alert = stream.next_of("alert")
    assert alert["id"] == alert["data"]["entry"] == first
    assert alert["data"]["id"] == f"CVX:XOM:{NEWEST}:divergence"
    assert alert["data"]["signal"]["z"] == pytest.approx(-3.1)
    spread = alert["data"]["spread"]
    assert (spread["a"], spread["b"], spread["beta"]) == ("CVX", "XOM", 0.8)
    assert len(spread["dates"]) == 60 and spread["dates"][-1] == NEWEST.isoformat()  # nothing after the session
    assert spread["values"] == pytest.approx(expected_spread(pg, "CVX", "XOM", NEWEST, 0.8), abs=1e-6)
    second = fire(pg, redis_client, "KO", "PEP", NEWEST, 2.7)
    assert stream.next_of("alert")["id"] == second

    resumed = EventStream(f"{api_server}/api/live", headers={"Last-Event-ID": first})
    streams.append(resumed)
    assert resumed.next()["event"] == "snapshot"
    assert resumed.next_of("alert")["data"]["id"] == f"KO:PEP:{NEWEST}:divergence"
    assert resumed.nothing_more("alert", seconds=3)  # the first alert is not sent again
    by_query = EventStream(f"{api_server}/api/live?after={start}")  # what the page sends when it opens anew
    streams.append(by_query)
    assert [by_query.next_of("alert")["id"] for _ in range(2)] == [first, second]
    fresh = EventStream(f"{api_server}/api/live")  # no position: the newest alerts first, oldest first
    streams.append(fresh)
    assert fresh.next()["event"] == "snapshot"
    assert [fresh.next_of("alert")["id"] for _ in range(2)] == [first, second]
    assert fresh.nothing_more("alert", seconds=3)
    # a viewer reads outside the consumer groups: it created none and acknowledged nothing
    assert redis_client.xinfo_groups(cache.SIGNAL_STREAM) == []


def test_a_bad_last_event_id_is_a_422(api_server):
    response = httpx.get(f"{api_server}/api/live", headers={"Last-Event-ID": "1-0; DROP"}, timeout=10)
    assert response.status_code == 422


def test_the_route_refuses_a_request_without_credentials():
    """As every route of the app (the api-server of these tests lets everyone in as an admin, the local default)."""
    from airflow.api_fastapi.app import init_auth_manager
    from fastapi.testclient import TestClient

    from axiom_airflow.api import app

    init_auth_manager()
    anonymous = TestClient(app)
    assert anonymous.get("/api/live").status_code == 401
    assert anonymous.get("/api/live", headers={"Authorization": "Bearer not-a-token"}).status_code == 403


def test_streams_are_bounded_per_worker_and_a_closed_one_frees_its_slot(api_server, streams):
    opened = []
    for _ in range(30):  # the earlier tests' streams end when the server notices their clients left
        stream = EventStream(f"{api_server}/api/live")
        if stream.response.status_code == 200:
            opened.append(stream)
            streams.append(stream)
            if len(opened) == MAX_STREAMS:
                break
        else:
            stream.close()
            time.sleep(0.5)
    assert len(opened) == MAX_STREAMS
    refused = EventStream(f"{api_server}/api/live")
    streams.append(refused)
    assert refused.response.status_code == 503
    assert refused.response.headers["retry-after"] == "10"
    assert "live streams" in refused.response.json()["detail"]
    opened[0].close()
    for _ in range(20):
        again = EventStream(f"{api_server}/api/live")
        streams.append(again)
        if again.response.status_code == 200:
            break
        time.sleep(0.5)
    assert again.response.status_code == 200


def test_the_page_draws_an_alert_pushed_after_it_loaded(api_server, pg, redis_client, tmp_path):
    browser = DevTools(tmp_path / "profile")
    try:
        browser.call("Page.navigate", url=f"{api_server}/")
        browser.wait_for("document.body && document.body.dataset.live === 'open'", seconds=60, what="no live stream")
        session = browser.wait_for("document.body.dataset.liveSession", seconds=30, what="no snapshot drawn")
        assert session >= NEWEST.isoformat()
        assert browser.evaluate("document.querySelectorAll('#live-prices .tile').length") == len(SYMBOLS)
        assert browser.evaluate("document.getElementById('live-state').textContent") == "live"
        browser.evaluate(SEEN)
        pushed = fire(pg, redis_client, "KO", "XOM", NEWEST, 3.4, text=MARKUP)  # its texts are data, not markup
        item = f"#live-alerts li[data-signal='KO:XOM:{NEWEST}:divergence']"
        browser.wait_for(f'!!document.querySelector("{item} canvas")', seconds=30, what="the alert was not drawn")
        text = browser.evaluate(f'document.querySelector("{item}").innerText')
        received = browser.evaluate("window.axiomLive.received")
        last = browser.evaluate("window.axiomLive.last")
        planted = browser.evaluate(
            "({elements: document.querySelectorAll('[data-planted]').length, seen: window.planted_seen,"
            " ran: window.planted_ran || false})"
        )
    finally:
        browser.close()
    assert f"{NEWEST} KO / XOM" in text and "z 3.40" in text
    assert text.count('<img data-planted="element"') == 2 and planted == {"elements": 0, "seen": 0, "ran": False}
    assert received.count(f"KO:XOM:{NEWEST}:divergence") == 1 and last == pushed


def test_with_redis_down_a_stream_says_so_and_a_new_one_is_a_503_naming_redis(api_server, streams):
    """Last in this module: it stops the tests' own Redis server, and starts it again."""
    from tests.integration.test_faults import start_servers, stop_server

    stream = EventStream(f"{api_server}/api/live")
    streams.append(stream)
    assert stream.next()["event"] == "snapshot"
    stop_server("redis")
    try:
        gone = stream.next_of("unavailable", seconds=30)
        assert gone["data"]["store"] == "redis" and "redis is unavailable" in gone["data"]["detail"]
        refused = httpx.get(f"{api_server}/api/live", timeout=30)
        assert refused.status_code == 503 and refused.json()["store"] == "redis"
    finally:
        start_servers()
    again = EventStream(f"{api_server}/api/live")  # the slots of both were given back; Redis answers again
    streams.append(again)
    assert again.next()["event"] == "snapshot"
