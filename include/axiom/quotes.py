"""The price a reader should use for a symbol on a date, and where it came from.

Redis holds each symbol's newest bar (``price:{SYMBOL}:latest``); it answers when the question is
about that bar's session. Any other date, or an expired key, is answered by the ledger's close
on the last session at or before the date, and the quote says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

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


def quote(redis_client, symbol: str, *, as_of: date | None, newest: date, closes: Callable[[], pd.Series]) -> Quote:
    """``symbol``'s close on ``as_of`` (None: its ``newest`` session) from Redis when it holds that bar, else
    from ``closes()``: the ledger's closes of the symbol up to the as-of (called only then).

    Redis is not even read for an earlier date, so nothing dated after ``as_of`` is looked at.
    """
    is_newest = as_of is None or as_of >= newest
    cached = cache.read_json(redis_client, cache.latest_price_key(symbol)) if is_newest else None

    def last() -> tuple[float, date] | None:
        series = closes()
        return None if series.empty else (float(series.iloc[-1]), series.index[-1].date())

    return _chosen(symbol, cached, as_of=as_of, newest=newest, last=last)


def quotes(redis_client, symbols: list[str], *, as_of: date, newest: date, closes: pd.DataFrame) -> dict:
    """Each symbol's ``quote`` on ``as_of`` from one MGET (only when ``as_of`` is the ``newest`` session), else
    from ``closes`` (sessions x symbols up to the as-of, already read); None for a symbol neither holds."""
    is_newest = as_of >= newest
    cached = cache.read_latest_prices(redis_client, symbols) if is_newest else dict.fromkeys(symbols)
    listed = [s for s in symbols if s in closes]
    values = closes[listed].to_numpy(dtype=float)
    finite = np.isfinite(values)
    row = len(values) - 1 - np.argmax(finite[::-1], axis=0)  # each symbol's last session with a close
    last = {
        s: (float(values[row[j], j]), closes.index[row[j]].date()) for j, s in enumerate(listed) if finite[:, j].any()
    }
    out: dict[str, Quote | None] = {}
    for symbol in symbols:
        try:
            out[symbol] = _chosen(symbol, cached[symbol], as_of=as_of, newest=newest, last=lambda s=symbol: last.get(s))
        except LookupError:
            out[symbol] = None
    return out


def _chosen(symbol: str, cached: dict | None, *, as_of, newest: date, last: Callable[[], tuple | None]) -> Quote:
    """Redis's value when it is the ``newest`` session's bar, else the ledger's ``last()`` close and its session."""
    is_newest = as_of is None or as_of >= newest
    if cached is not None:
        session = date.fromisoformat(cached["ts"][:10])
        if session == newest:
            age = (date.today() - session).days
            return Quote(
                symbol, float(cached["close"]), session, "redis", _said("Redis latest close", session, age), age
            )
    found = last()
    if found is None:
        raise LookupError(f"{symbol} has no close in the ledger on or before {as_of}")
    close, session = found
    age = ((as_of or date.today()) - session).days
    why = "an earlier session than the cached latest" if not is_newest else "no current cached latest price"
    return Quote(symbol, close, session, "ledger", _said(f"ledger close ({why})", session, age), age)


def latest_price(conn, redis_client, symbol: str, *, as_of: date | None = None) -> Quote:
    """``symbol``'s close on ``as_of`` (or its newest session), reading the ledger only when Redis cannot answer."""
    span = ledger.prices.session_span(conn, symbol)
    if span is None:
        raise LookupError(f"{symbol} has no daily prices in the ledger")

    def closes() -> pd.Series:
        frame = ledger.prices.closes(conn, [symbol], since=(as_of or span[1]) - timedelta(days=14), until=as_of)
        if frame.empty:
            frame = ledger.prices.closes(conn, [symbol], until=as_of)
        return frame.set_index("ts")["close"]

    return quote(redis_client, symbol, as_of=as_of, newest=span[1], closes=closes)


def _said(what: str, session: date, age: int) -> str:
    stale = f"; stale: {age} days old" if age > STALE_AFTER_DAYS else ""
    return f"{what} of {session}{stale}"
