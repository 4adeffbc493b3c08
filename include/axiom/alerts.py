"""Use Case 2, "alert me when correlated stocks diverge": for each pair drawn as ``CORRELATED_WITH``
with |r| at least ``min_coefficient`` that involves an updated symbol, the newest session's return
spread against what the pair's last 60 sessions predict (``axiom.analytics.divergence``). |z| at
least ``z_threshold`` is a divergence.

Each divergence is written once: first to the ledger (``signal``, idempotent on pair,
session and kind), then, for those not yet streamed, to the Redis Stream ``signal:stream`` (consumer
groups: a consumer that was away reads what it missed) and the ``signal_updates`` channel (live
listeners), and marked streamed. A retried or repeated run adds nothing, also when a try died between
streaming and marking: the stream records each signal's ledger id with its entry, in the same script.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from axiom.analytics.divergence import LOOKBACK, divergence, trade
from axiom.delivery import headline
from axiom.reads import wide
from axiom.stores import cache, graph, ledger
from axiom.validation import parse_symbols

log = logging.getLogger(__name__)

ALERT_HOP = "divergence_alerts.alert"
CHECKED_HOP = "divergence_alerts.checked"


@dataclass(frozen=True)
class AlertParams:
    symbols: list[str] | None = None
    min_coefficient: float = 0.8
    z_threshold: float = 2.5

    def __post_init__(self):
        if not 0 < self.min_coefficient <= 1:
            raise ValueError(f"min_coefficient must be in (0, 1], got {self.min_coefficient}")
        if not self.z_threshold >= 1:
            raise ValueError(f"z_threshold must be at least 1 (a meaningful surprise), got {self.z_threshold}")

    @classmethod
    def parse(cls, params: dict) -> AlertParams:
        return cls(
            symbols=parse_symbols(params.get("symbols")),
            min_coefficient=float(params.get("min_coefficient", cls.min_coefficient)),
            z_threshold=float(params.get("z_threshold", cls.z_threshold)),
        )


def detect(conn, driver, params: AlertParams) -> list[dict]:
    """The divergences of the newest session among the pairs the params select that were drawn correlated
    before it (edges of an earlier as-of: a session's own move never decides whether its pair counts)."""
    newest = ledger.prices.session_span(conn)[1]
    pairs = [
        p
        for p in graph.read(
            driver, graph.CORRELATED_PAIRS, min_coefficient=params.min_coefficient, symbols=params.symbols
        )
        if p["as_of"] < newest.isoformat()
    ]
    if not pairs:
        return []
    symbols = sorted({p["a"] for p in pairs} | {p["b"] for p in pairs})
    closes = wide(ledger.prices.closes(conn, symbols, since=newest - timedelta(days=2 * LOOKBACK + 30), until=newest))
    found = divergences(closes, pairs, newest, params)
    log.info("%d correlated pairs checked on %s: %d divergences", len(pairs), newest, len(found))
    return found


def divergences(closes, pairs: list[dict], session: date, params: AlertParams) -> list[dict]:
    """The divergences on ``session`` of ``pairs`` (a, b, coefficient), from ``closes`` (sessions x symbols,
    ending on or after it): what a live alert run finds, and what a replay's offline recomputation expects."""
    closes = closes[closes.index <= pd.Timestamp(session, tz="UTC")]
    found = []
    for p in pairs:
        both = closes[[p["a"], p["b"]]].dropna()
        if both.empty or both.index[-1].date() != session:
            continue
        d = divergence(both[p["a"]].to_numpy(dtype=float), both[p["b"]].to_numpy(dtype=float))
        if d is None or abs(d["z"]) < params.z_threshold:
            continue
        found.append(
            {
                "a": p["a"],
                "b": p["b"],
                "session": session,
                "kind": "divergence",
                "z": round(d["z"], 4),
                "coefficient": p["coefficient"],
                "beta": round(d["beta"], 4),
                "moved": p["a"] if d["moved_a"] else p["b"],
                "return_a": d["return_a"],
                "return_b": d["return_b"],
                "close_a": float(both[p["a"]].iloc[-1]),
                "close_b": float(both[p["b"]].iloc[-1]),
                "trade": trade(p["a"], p["b"], d["z"], d["beta"]),
            }
        )
    return found


def alert(conn, driver, redis_client, params: AlertParams) -> dict:
    """Detect divergences, keep the new ones in the ledger, then stream and announce every one not yet streamed;
    stamp the session's ``divergence_alerts.alert`` hop (the live path's hop table), and ``.checked`` when every
    pair was checked (what a replay waits for before the session's correlations move the edges on)."""
    began = time.perf_counter()
    found = detect(conn, driver, params)
    new = ledger.signals.record(conn, found)
    pending = ledger.signals.unstreamed(conn)
    # a signal a crashed try already streamed (but could not mark) is on the stream once: the script skips it
    streamed = cache.stream_signals(redis_client, {ledger.signals.signal_id(s): s for s in pending})
    ledger.signals.mark_streamed(conn, pending)
    for s in pending:
        log.warning("%s", headline(s))
    span = ledger.prices.session_span(conn)
    if span is not None:
        ledger.live.stamp(conn, span[1], ALERT_HOP, time.perf_counter() - began)
        if params.symbols is None:  # every pair was checked (not only an announced symbol's)
            ledger.live.stamp(conn, span[1], CHECKED_HOP, 0.0)
    return {"found": len(found), "new": new, "streamed": streamed.added}
