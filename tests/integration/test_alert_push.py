"""Alerts as a push ("alert me"): each alert delivered to a webhook on loopback and through an Airflow notifier,
recorded in the ledger, retried after a refusal, never sent twice (a repeated pass, two passes side by side)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from airflow.sdk.bases.notifier import BaseNotifier

from axiom import alerts, connections, delivery
from axiom.stores import ledger
from axiom_airflow.notifiers import channels
from tests.integration import test_alerts
from tests.integration.test_alerts import MECHANICS, append_session

correlated = test_alerts.correlated  # the fixture: XOM and CVX drawn as CORRELATED_WITH
PARAMS = delivery.DeliveryParams(attempts=3, timeout_seconds=5)
SENT: list[tuple[str, str]] = []  # what the test notifier was asked to send (subject, body)


class Receiver:
    """An HTTP receiver on 127.0.0.1 that answers each POST with the next planned status (then 200), slowly when
    asked, and keeps what it was sent."""

    def __init__(self, statuses=(), delay: float = 0.0):
        self.planned, self.delay, self.received = list(statuses), delay, []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                time.sleep(receiver.delay)
                status = receiver.planned.pop(0) if receiver.planned else 200
                receiver.received.append((status, self.headers["Idempotency-Key"], body))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts?token=planted-secret"

    def accepted(self) -> list[str]:
        return [key for status, key, _ in self.received if status == 200]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver(statuses=[503])
    yield r
    r.close()


@pytest.fixture
def two_alerts(correlated, pg, redis_client, neo4j_driver):
    """Two divergences of CVX/XOM on two appended sessions, streamed (what the alert runs write)."""
    for day, moves in (("2022-12-29", {"XOM": 0.06, "CVX": -0.01}), ("2022-12-30", {"XOM": 0.03, "CVX": -0.01})):
        append_session(pg, day, moves)
        assert alerts.alert(pg, neo4j_driver, redis_client, MECHANICS)["new"] == 1
    return ledger.signals.latest(pg)


def test_a_refused_delivery_is_retried_and_each_alert_arrives_once(two_alerts, pg, receiver):
    sends = channels({"AXIOM_ALERT_WEBHOOK": receiver.url}, PARAMS)
    first = delivery.deliver(pg, sends, PARAMS)
    # the receiver refused the first: the pass stopped there, and the refusal is kept with the status, no URL
    assert first == {"webhook": {"delivered": 0, "failed": 1, "given_up": 0}}
    [refused, waiting] = ledger.deliveries.deliveries(pg, "webhook")
    assert (refused["attempts"], refused["delivered_at"]) == (1, None)
    assert refused["last_error"] == "DeliveryFailed: the webhook answered 503 Service Unavailable"
    assert waiting["attempts"] == 0
    assert delivery.deliver(pg, sends, PARAMS)["webhook"]["delivered"] == 2
    assert delivery.deliver(pg, sends, PARAMS)["webhook"]["delivered"] == 0  # nothing twice
    ids = sorted(ledger.signals.signal_id(s) for s in two_alerts)
    assert sorted(receiver.accepted()) == ids and len(receiver.received) == 3
    body = receiver.received[-1][2]
    assert body["id"] == receiver.received[-1][1] and body["signal"]["a"] == "CVX"
    assert body["text"].startswith("divergence CVX/XOM on 2022-12-30: XOM moved")
    assert all(d["delivered_at"] is not None and d["last_error"] is None for d in ledger.deliveries.deliveries(pg))
    # the hop table learns when each session's alert was pushed
    assert ledger.live.stamped(pg, two_alerts[0]["session"], delivery.DELIVER_HOP)


def test_a_channel_that_keeps_refusing_is_given_up_after_its_attempts_and_says_why(two_alerts, pg):
    refusing = Receiver(statuses=[500] * 10)
    try:
        sends = channels({"AXIOM_ALERT_WEBHOOK": refusing.url}, PARAMS)
        outcomes = [delivery.deliver(pg, sends, PARAMS)["webhook"] for _ in range(7)]
    finally:
        refusing.close()
    assert sum(o["failed"] for o in outcomes) == 2 * PARAMS.attempts  # each alert tried 3 times, no more
    assert outcomes[-1] == {"delivered": 0, "failed": 0, "given_up": 2}
    assert {d["attempts"] for d in ledger.deliveries.deliveries(pg)} == {PARAMS.attempts}


def test_two_passes_side_by_side_send_each_alert_once(two_alerts, pg):
    slow = Receiver(delay=0.5)
    sends = channels({"AXIOM_ALERT_WEBHOOK": slow.url}, PARAMS)
    results = []

    def one_pass():
        with connections.postgres() as conn:
            results.append(delivery.deliver(conn, sends, PARAMS)["webhook"]["delivered"])

    try:
        passes = [threading.Thread(target=one_pass) for _ in range(2)]
        for p in passes:
            p.start()
        for p in passes:
            p.join()
    finally:
        slow.close()
    assert sorted(results) in ([0, 2], [1, 1]) and len(slow.received) == 2
    assert len(set(slow.accepted())) == 2


class Recorded(BaseNotifier):
    """A notifier as a provider writes one (Slack's, SMTP's): templated fields, rendered with the alert."""

    template_fields = ("subject", "body")

    def __init__(self, subject: str, body: str):
        super().__init__()
        self.subject, self.body = subject, body

    def notify(self, context) -> None:
        SENT.append((self.subject, self.body))


def test_an_airflow_notifier_plugs_in_with_its_templates_rendered(two_alerts, pg):
    spec = {"desk": {"class": f"{__name__}.Recorded",
                     "kwargs": {"subject": "Axiom: {{ signal.a }}/{{ signal.b }}", "body": "{{ text }}"}}}  # fmt: skip
    sends = channels({"AXIOM_ALERT_NOTIFIERS": json.dumps(spec)}, PARAMS)
    assert delivery.deliver(pg, sends, PARAMS) == {"desk": {"delivered": 2, "failed": 0, "given_up": 0}}
    assert [s for s, _ in SENT] == ["Axiom: CVX/XOM"] * 2
    assert SENT[0][1] == delivery.headline(two_alerts[-1])  # oldest session first
    with pytest.raises(ValueError, match="is not an Airflow notifier"):
        channels({"AXIOM_ALERT_NOTIFIERS": json.dumps({"x": {"class": "json.JSONDecoder"}})})
    with pytest.raises(ValueError, match="is not JSON"):
        channels({"AXIOM_ALERT_NOTIFIERS": "{desk"})


def test_the_alert_dag_pushes_what_it_fires(correlated, pg, dagbag, monkeypatch):
    """The real DAG: the alert task fires, its deliver task pushes to the webhook; a second run sends nothing."""
    append_session(pg, "2022-12-29", {"XOM": 0.06, "CVX": -0.01})
    ok = Receiver()
    monkeypatch.setenv("AXIOM_ALERT_WEBHOOK", ok.url)
    try:
        for _ in range(2):
            assert dagbag.dags["divergence_alerts"].test(run_conf={"max_pvalue": 1.0}).state == "success"
    finally:
        ok.close()
    assert ok.accepted() == ["CVX:XOM:2022-12-29:divergence"]
