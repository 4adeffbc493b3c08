"""What every question shares: the stores it reads, its resolved request, and the as-of checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from axiom.stores import ledger
from axiom.validation import parse_date, parse_symbols

MIN_HISTORY = 61  # sessions a trend needs: 60 returns


@dataclass(frozen=True)
class Stores:
    """The four stores an answer reads."""

    conn: object
    redis_client: object
    driver: object
    chroma_client: object


@dataclass(frozen=True)
class Request:
    """A question made concrete: its subject, the session it stands on, and its other parameters."""

    subject: str
    as_of: date
    params: dict = field(default_factory=dict)


def symbol_of(value) -> str:
    """One ticker, checked like every other symbol Axiom takes."""
    symbols = parse_symbols([value] if isinstance(value, str) else value)
    if not symbols or len(symbols) != 1:
        raise ValueError(f"give one symbol, got {value!r}")
    return symbols[0]


def session_on_or_before(conn, value, symbol: str | None = None) -> date:
    """The as-of session: the last session on or before ``value`` (default: the ledger's newest).

    Refused with a clear message when the ledger has no prices (for ``symbol``), when the date is
    after the newest session, or when fewer than ``MIN_HISTORY`` sessions precede it.
    """
    requested = parse_date(value, "as_of")
    span = ledger.prices.session_span(conn, symbol)
    if span is None:
        who = f"{symbol} has" if symbol else "the ledger has"
        raise LookupError(f"{who} no daily prices: run the price_ingestion pipeline first")
    first, last = span
    if requested is None:
        return last
    if requested > last:
        raise ValueError(f"as_of {requested} is after the ledger's newest session {last}: nothing is known after it")
    sessions = ledger.prices.last_sessions(conn, requested, MIN_HISTORY, symbol)
    if len(sessions) < MIN_HISTORY:
        raise ValueError(
            f"as_of {requested} is too early: {MIN_HISTORY} sessions of history are needed before it"
            f" ({symbol or 'the ledger'} starts {first})"
        )
    return sessions[-1]


def wide(closes: pd.DataFrame) -> pd.DataFrame:
    """Long (symbol, ts, close) as sessions x symbols."""
    return closes.pivot(index="ts", columns="symbol", values="close").sort_index()
