"""Point-in-time reads of the ledger that the pipelines, the questions, the alerts and the evaluation
share: symbols checked once, the session an answer stands on, closes as a wide table, and sector
momentum. It sits below all of them and writes nothing, so a reader never imports a writer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from axiom.stores import ledger
from axiom.validation import parse_date, parse_symbols

MIN_HISTORY = 61  # sessions a trend needs: 60 returns


@dataclass(frozen=True)
class Session:
    """The session an answer stands on, the ledger's newest (Redis caches only that one's values), and the first
    of the ``MIN_HISTORY`` sessions up to the as-of (where a read of the history a trend needs starts)."""

    as_of: date
    newest: date
    first: date

    @property
    def is_newest(self) -> bool:
        return self.as_of == self.newest


def symbol_of(value) -> str:
    """One ticker, checked like every other symbol Axiom takes."""
    symbols = parse_symbols([value] if isinstance(value, str) else value)
    if not symbols or len(symbols) != 1:
        raise ValueError(f"give one symbol, got {value!r}")
    return symbols[0]


def session_of(conn, value, symbol: str | None = None) -> Session:
    """The as-of session: the last session on or before ``value`` (default: the ledger's newest), with the newest.

    Refused with a clear message when the ledger has no prices (for ``symbol``), when the date is
    after the newest session, or when fewer than ``MIN_HISTORY`` sessions precede it.
    """
    requested = parse_date(value, "as_of")
    span = ledger.prices.session_span(conn, symbol)
    if span is None:
        who = f"{symbol} has" if symbol else "the ledger has"
        raise LookupError(f"{who} no daily prices: run the price_ingestion pipeline first")
    first, last = span
    if requested is not None and requested > last:
        raise ValueError(f"as_of {requested} is after the ledger's newest session {last}: nothing is known after it")
    sessions = ledger.prices.last_sessions(conn, requested or last, MIN_HISTORY, symbol)
    if len(sessions) < MIN_HISTORY:
        raise ValueError(
            f"as_of {requested or last} is too early: {MIN_HISTORY} sessions of history are needed before it"
            f" ({symbol or 'the ledger'} starts {first})"
        )
    return Session(sessions[-1], last, sessions[0])


def session_on_or_before(conn, value, symbol: str | None = None) -> date:
    """The as-of session alone (see ``session_of``)."""
    return session_of(conn, value, symbol).as_of


def wide(closes: pd.DataFrame) -> pd.DataFrame:
    """Long (symbol, ts, close) as sessions x symbols."""
    return closes.pivot(index="ts", columns="symbol", values="close").sort_index()


def sector_momentum(conn, as_of: date | None = None) -> dict | None:
    """Every sector's returns, relative strength and rotation score at the session ``as_of`` (default: the
    newest) from the ledger's ``sector_momentum``; None when it holds no row for that session. The value
    of ``sector:momentum:latest``."""
    session = as_of or ledger.sectors.newest_session(conn)
    rows = ledger.sectors.at(conn, [session]) if session else []
    if not rows:
        return None
    return {"as_of": session.isoformat(), "sectors": [{k: v for k, v in r.items() if k != "session"} for r in rows]}
