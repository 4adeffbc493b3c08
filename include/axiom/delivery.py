"""Alerts are a push ("alert me"): each divergence the alert runs stream is also delivered to every configured channel —
a webhook (``AXIOM_ALERT_WEBHOOK``), or any notifier Airflow's interface plugs in (Slack, e-mail; see
``axiom_airflow.notifiers``). Each delivery is recorded in the ledger (``signal_delivery``), retried until it
succeeds or has been tried ``attempts`` times, and marked once it succeeded, so a repeated or retried run sends
nothing twice; the webhook's ``Idempotency-Key`` header (the signal's ledger id) lets a receiver drop the one
duplicate a crash between a receiver's 2xx and the ledger's mark can cause.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from axiom.stores import ledger

log = logging.getLogger(__name__)

WEBHOOK = "webhook"
DELIVER_HOP = "divergence_alerts.deliver"
Send = Callable[[dict], None]


@dataclass(frozen=True)
class DeliveryParams:
    attempts: int = 5
    since_hours: float = 24.0
    timeout_seconds: float = 10.0

    def __post_init__(self):
        if self.attempts < 1:
            raise ValueError(f"delivery attempts must be at least 1, got {self.attempts}")
        if not self.since_hours > 0 or not self.timeout_seconds > 0:
            raise ValueError("delivery window and timeout must be positive")

    @classmethod
    def from_env(cls, env: dict) -> DeliveryParams:
        return cls(
            attempts=int(env.get("AXIOM_ALERT_DELIVERY_ATTEMPTS", cls.attempts)),
            since_hours=float(env.get("AXIOM_ALERT_DELIVERY_HOURS", cls.since_hours)),
            timeout_seconds=float(env.get("AXIOM_ALERT_DELIVERY_TIMEOUT", cls.timeout_seconds)),
        )


def headline(signal: dict) -> str:
    """One line a person reads: the pair, the session, who moved, the surprise, the trade and how such alerts fared
    (their track record as of the session, in words; none for a signal kept before records were)."""
    said = (signal.get("stats") or {}).get("record_words")
    return (
        f"divergence {signal['a']}/{signal['b']} on {signal['session']}: {signal['moved']} moved, "
        f"z {signal['z']:+.2f} (r {signal['coefficient']:.2f}); {signal['trade']}" + (f". {said}" if said else "")
    )


def payload(signal: dict) -> dict:
    """What a channel is sent: the signal's ledger id, a line to read, and every field of the signal."""
    return {
        "id": ledger.signals.signal_id(signal),
        "text": headline(signal),
        "signal": json.loads(json.dumps(signal, default=str)),
    }


def post_webhook(url: str, signal: dict, *, timeout_seconds: float) -> None:
    """POST the signal's ``payload`` as JSON; anything but a 2xx raises (a failed attempt, retried later)."""
    body = payload(signal)
    with httpx.Client(timeout=timeout_seconds) as client:
        response = client.post(url, json=body, headers={"Idempotency-Key": body["id"], "User-Agent": "axiom-alerts"})
        if not response.is_success:  # said without the URL, which may hold a secret (Slack's do)
            raise DeliveryFailed(f"the webhook answered {response.status_code} {response.reason_phrase}")


class DeliveryFailed(Exception):
    """A channel refused a delivery."""


def deliver(conn, channels: dict[str, Send], params: DeliveryParams) -> dict[str, dict]:
    """Offer every pending delivery to each channel; stamp the ``divergence_alerts.deliver`` hop of each session
    delivered. Return per channel what was delivered, failed, and given up after ``attempts``."""
    out = {}
    for name, send in channels.items():
        began = time.perf_counter()
        added = ledger.deliveries.enqueue(conn, name, since_hours=params.since_hours)
        outcome = ledger.deliveries.send_pending(conn, name, send, attempts=params.attempts)
        for day in sorted({s["session"] for s in outcome.delivered}):
            ledger.live.stamp(conn, day, DELIVER_HOP, time.perf_counter() - began)
        log.info(
            "channel %s: %d new, %d delivered, %d failed, %d given up after %d attempts",
            name, added, len(outcome.delivered), outcome.failed, outcome.given_up, params.attempts,
        )  # fmt: skip
        out[name] = {"delivered": len(outcome.delivered), "failed": outcome.failed, "given_up": outcome.given_up}
    return out
