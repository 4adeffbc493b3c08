"""The price a reader should use for a symbol on a date, and where it came from.

Redis holds each symbol's newest bar (``price:{SYMBOL}:latest``); it answers when the question is
about that bar's session. Any other date, or an expired key, is answered by the ledger's close
on the last session at or before the date, and the quote says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from axiom.stores import cache, ledger

STALE_AFTER_DAYS = 4  # a weekend and a holiday: older than that, a "latest" price is stale


@dataclass(frozen=True)
class Quote:
    symbol: str
    close: float
    session: date
    source: str  # "redis" or "ledger"
    note: str
    age_days: int  # days from the session to the as-of date (or to today, for the latest price)


def latest_price(conn, redis_client, symbol: str, *, as_of: date | None = None) -> Quote:
    """``symbol``'s close on ``as_of`` (or its newest session): from Redis when it holds that bar, else the ledger.

    Redis is not even read for an earlier date, so nothing dated after ``as_of`` is looked at.
    """
    span = ledger.prices.session_span(conn, symbol)
    if span is None:
        raise LookupError(f"{symbol} has no daily prices in the ledger")
    newest = as_of is None or as_of >= span[1]
    cached = cache.read_json(redis_client, cache.latest_price_key(symbol)) if newest else None
    if cached is not None:
        session = date.fromisoformat(cached["ts"][:10])
        if session == span[1]:
            age = (date.today() - session).days
            return Quote(
                symbol, float(cached["close"]), session, "redis", _said("Redis latest close", session, age), age
            )
    frame = ledger.prices.closes(conn, [symbol], since=(as_of or span[1]) - timedelta(days=14), until=as_of)
    if frame.empty:
        frame = ledger.prices.closes(conn, [symbol], until=as_of)
    if frame.empty:
        raise LookupError(f"{symbol} has no close in the ledger on or before {as_of}")
    close, session = float(frame.iloc[-1]["close"]), frame.iloc[-1]["ts"].date()
    age = ((as_of or date.today()) - session).days
    why = "an earlier session than the cached latest" if not newest else "no current cached latest price"
    return Quote(symbol, close, session, "ledger", _said(f"ledger close ({why})", session, age), age)


def _said(what: str, session: date, age: int) -> str:
    stale = f"; stale: {age} days old" if age > STALE_AFTER_DAYS else ""
    return f"{what} of {session}{stale}"
