"""Use Case 2, "alert me when correlated stocks diverge", as pairs traders define a divergence: for each pair
drawn as ``CORRELATED_WITH`` with |r| at least ``min_coefficient`` that involves an updated symbol, the pair's
statistics over a formation window ending on the newest session (``axiom.analytics.pairs``: Engle–Granger
p-value, hedge ratio, OU half-life, spread z, zero crossings). A divergence is |z| at least ``z_threshold`` on a
pair that qualifies: cointegrated (p-value at most ``max_pvalue``) with a half-life between ``min_half_life`` and
``max_half_life`` sessions. Each alert carries those statistics, what closes the trade (the spread back at its
mean, or ``stop_half_lives`` half-lives), and the track record of earlier alerts whose outcome had ended.

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

import numpy as np
import pandas as pd

from axiom.analytics.pairs import FORMATION, SCREEN_MARGIN, pair_stats, rolling_z, trade
from axiom.delivery import headline
from axiom.insights.common import record_words
from axiom.stores import cache, graph, ledger
from axiom.validation import parse_symbols

log = logging.getLogger(__name__)

QUALIFIED, MATCHED = "qualified", "matched random"  # the evaluation's outcome labels an alert's record compares
ALERT_HOP = "divergence_alerts.alert"
CHECKED_HOP = "divergence_alerts.checked"


@dataclass(frozen=True)
class AlertParams:
    """Which pairs are checked and what a divergence is (the evaluation uses the same)."""

    symbols: list[str] | None = None
    min_coefficient: float = 0.8
    z_threshold: float = 2.0
    formation: int = FORMATION
    max_pvalue: float = 0.05
    min_half_life: float = 1.0
    max_half_life: float = 30.0
    stop_half_lives: float = 2.0

    def __post_init__(self):
        if not 0 < self.min_coefficient <= 1:
            raise ValueError(f"min_coefficient must be in (0, 1], got {self.min_coefficient}")
        if not self.z_threshold >= 1:
            raise ValueError(f"z_threshold must be at least 1 (a meaningful surprise), got {self.z_threshold}")
        if not 30 <= self.formation <= 1000:
            raise ValueError(f"formation must be between 30 and 1000 sessions, got {self.formation}")
        if not 0 < self.max_pvalue <= 1:
            raise ValueError(f"max_pvalue must be in (0, 1], got {self.max_pvalue}")
        if not 0 < self.min_half_life <= self.max_half_life <= self.formation:
            raise ValueError(
                f"half-lives must satisfy 0 < min <= max <= formation, got {self.min_half_life}, {self.max_half_life}"
            )
        if not 0 < self.stop_half_lives <= 20:
            raise ValueError(f"stop_half_lives must be in (0, 20], got {self.stop_half_lives}")

    @classmethod
    def parse(cls, params: dict) -> AlertParams:
        numbers = {
            name: kind(params[name])
            for name, kind in (
                ("min_coefficient", float),
                ("z_threshold", float),
                ("formation", int),
                ("max_pvalue", float),
                ("min_half_life", float),
                ("max_half_life", float),
                ("stop_half_lives", float),
            )
            if params.get(name) is not None
        }
        return cls(symbols=parse_symbols(params.get("symbols")), **numbers)

    def qualifies(self, stats) -> bool:
        """Whether a pair's statistics make a divergence: |z| past the threshold on a cointegrated pair whose
        spread reverts within the half-life bounds."""
        return (
            abs(stats.z) >= self.z_threshold
            and stats.pvalue <= self.max_pvalue
            and stats.half_life is not None
            and self.min_half_life <= stats.half_life <= self.max_half_life
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
    closes = ledger.prices.close_table(
        conn, symbols, since=newest - timedelta(days=2 * params.formation + 30), until=newest
    )
    found = divergences(closes, pairs, newest, params)
    record = ledger.signals.track_record(conn, "divergence", as_of=newest)
    said = record_words(record, QUALIFIED, MATCHED, "qualified divergences", "spread trade after costs")
    for f in found:
        f["stats"]["record"], f["stats"]["record_words"] = record, said
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
        d = divergence(p, both[p["a"]].to_numpy(dtype=float), both[p["b"]].to_numpy(dtype=float), session, params)
        if d is not None:
            found.append(d)
    return found


def divergence(pair: dict, a: np.ndarray, b: np.ndarray, session: date, params: AlertParams) -> dict | None:
    """The alert of ``pair`` on ``session`` from its aligned closes ending on it, or None when it does not
    qualify: the one decision the live alerts and the walk-forward evaluation share. The spread's z in closed
    form screens first: cointegration and half-life (milliseconds a pair) only for a pair whose |z| may pass."""
    if len(a) >= params.formation and len(b) >= params.formation:
        z = rolling_z(a[-params.formation :], b[-params.formation :], params.formation)[-1]
        if np.isfinite(z) and abs(z) < params.z_threshold - SCREEN_MARGIN:
            return None
    stats = pair_stats(a, b, params.formation)
    if stats is None or not params.qualifies(stats):
        return None
    ra, rb = np.diff(np.log(a[-params.formation :])), np.diff(np.log(b[-params.formation :]))
    moved_a = abs(ra[-1]) / ra[:-1].std(ddof=1) >= abs(rb[-1]) / rb[:-1].std(ddof=1)
    return {
        "a": pair["a"],
        "b": pair["b"],
        "session": session,
        "kind": "divergence",
        "z": round(stats.z, 4),
        "coefficient": pair["coefficient"],
        "beta": round(stats.hedge, 4),
        "moved": pair["a"] if moved_a else pair["b"],
        "return_a": float(a[-1] / a[-2] - 1),
        "return_b": float(b[-1] / b[-2] - 1),
        "close_a": float(a[-1]),
        "close_b": float(b[-1]),
        "trade": trade(pair["a"], pair["b"], stats, float(b[-1]), params.stop_half_lives),
        "stats": {
            **stats.as_json(),
            "exit_price_a": round(stats.exit_price_a(float(b[-1])), 4),
            "time_stop_sessions": stats.time_stop(params.stop_half_lives),
        },
    }


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
