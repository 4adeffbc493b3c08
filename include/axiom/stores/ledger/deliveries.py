"""``signal_delivery``: each signal's push to each channel (a webhook, an Airflow notifier), counted per
attempt and marked once delivered."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from axiom.stores.ledger.db import transaction
from axiom.stores.ledger.signals import SIGNAL_COLUMNS

KEY = ("a", "b", "session", "kind")


@dataclass(frozen=True)
class Outcome:
    """What one pass over a channel's pending deliveries did."""

    delivered: list[dict]  # the signals delivered in this pass
    failed: int
    given_up: int  # pending deliveries already tried ``attempts`` times: left, with their last error, for a person


def enqueue(conn, channel: str, *, since_hours: float) -> int:
    """A pending delivery on ``channel`` for every signal streamed in the last ``since_hours`` that has none yet
    (a channel set up today is not flooded with last year's alerts; a pass that missed less than that misses
    nothing); return how many were added."""
    with transaction(conn), conn.cursor() as cur:
        cur.execute(
            "INSERT INTO signal_delivery (a, b, session, kind, channel)"
            " SELECT a, b, session, kind, %s FROM signal WHERE streamed_at >= now() - make_interval(secs => %s)"
            " ON CONFLICT (a, b, session, kind, channel) DO NOTHING",
            (channel, since_hours * 3600),
        )
        return cur.rowcount


def send_pending(conn, channel: str, send: Callable[[dict], None], *, attempts: int) -> Outcome:
    """Offer each pending delivery on ``channel`` (tried fewer than ``attempts`` times, oldest signal first) to
    ``send`` while its row is locked, then mark it delivered or count the failed attempt with its error. A row
    another run holds is skipped, so no delivery is sent twice at once; ``send`` raising is a failed attempt."""
    delivered, failed = [], 0
    while True:
        with transaction(conn):
            row = conn.execute(
                f"SELECT {', '.join(f's.{c}' for c in SIGNAL_COLUMNS)} FROM signal_delivery d"
                " JOIN signal s USING (a, b, session, kind)"
                " WHERE d.channel = %s AND d.delivered_at IS NULL AND d.attempts < %s"
                " ORDER BY s.session, s.a, s.b LIMIT 1 FOR UPDATE OF d SKIP LOCKED",
                (channel, attempts),
            ).fetchone()
            if row is None:
                break
            signal = dict(zip(SIGNAL_COLUMNS, row, strict=True))
            try:
                send(signal)
                error = None
            except Exception as exc:  # the channel's own failure (HTTP status, refused connection): kept, retried
                error = f"{type(exc).__name__}: {exc}"[:2000]
            conn.execute(
                "UPDATE signal_delivery SET attempts = attempts + 1, last_attempt_at = now(), last_error = %s,"
                " delivered_at = CASE WHEN %s THEN now() END"
                " WHERE a = %s AND b = %s AND session = %s AND kind = %s AND channel = %s",
                (error, error is None, *(signal[c] for c in KEY), channel),
            )
        if error is None:
            delivered.append(signal)
        else:
            failed += 1
            break  # the channel is failing: the rest wait for the retry rather than each failing in turn
    given_up = conn.execute(
        "SELECT count(*) FROM signal_delivery WHERE channel = %s AND delivered_at IS NULL AND attempts >= %s",
        (channel, attempts),
    ).fetchone()[0]
    return Outcome(delivered, failed, given_up)


def deliveries(conn, channel: str | None = None) -> list[dict]:
    """Every delivery (of one channel), oldest signal first: what was sent where, how often, and why not."""
    rows = conn.execute(
        "SELECT a, b, session, kind, channel, attempts, last_error, delivered_at FROM signal_delivery"
        " WHERE %s::text IS NULL OR channel = %s ORDER BY session, a, b, channel",
        (channel, channel),
    ).fetchall()
    names = (*KEY, "channel", "attempts", "last_error", "delivered_at")
    return [dict(zip(names, r, strict=True)) for r in rows]
