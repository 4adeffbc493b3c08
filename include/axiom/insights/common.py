"""What every question shares: the stores it reads, what it is about, and its resolved request."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from axiom.stores import ledger
from axiom.validation import SYMBOL_PATTERN


@dataclass(frozen=True)
class Stores:
    """The four stores an answer reads."""

    conn: object
    redis_client: object
    driver: object
    chroma_client: object


@dataclass(frozen=True)
class Subject:
    """What a question is about, declared once by its module (``SUBJECT``; None: about nothing in particular).
    The CLI, the ``ask`` DAG's Params, the API and the page read it."""

    name: str  # the parameter that carries it: "symbol" or "event"
    required: bool
    pattern: str  # a valid value, as a regular expression (and a JSON-schema pattern)
    description: str


SYMBOL_SUBJECT = Subject("symbol", True, SYMBOL_PATTERN.pattern, "a ticker, e.g. AAPL")


@dataclass(frozen=True)
class Request:
    """A question made concrete: its subject, the session it stands on, and its other parameters."""

    subject: str
    as_of: date
    params: dict = field(default_factory=dict)
    newest: date | None = None  # the ledger's newest session (for the subject): Redis holds only its values
    since: date | None = None  # the first of the MIN_HISTORY sessions up to the as-of: reads of history start there


def record_words(record: dict, label: str, baseline: str, what: str, measure: str) -> str:
    """A track record in plain words: how ``label`` observations fared (n, mean ``measure``, 95% interval, hit
    rate) against ``baseline``'s, and whether the record shows an edge (it does not when the intervals overlap)."""
    mine, base = record.get(label), record.get(baseline)
    if not mine:
        return f"no track record: no evaluated {what} had an outcome ended by this date (python -m axiom evaluate)"
    text = (
        f"track record of {what}: {mine['n']} evaluated (outcomes ended by {mine['last_ended']}), mean {measure} "
        f"{mine['mean']:+.2%} [{mine['low']:+.2%}, {mine['high']:+.2%}], {mine['hit_rate']:.0%} hits"
    )
    if not base:
        return f"{text}; nothing to compare it with, so no edge is shown"
    text += f"; {baseline}: {base['n']}, {base['mean']:+.2%} [{base['low']:+.2%}, {base['high']:+.2%}]"
    if mine["low"] > base["high"]:
        return f"{text}: better than {baseline}, beyond the interval"
    if mine["high"] < base["low"]:
        return f"{text}: worse than {baseline}, beyond the interval"
    return f"{text}: no edge, the record does not tell {what} apart from {baseline}"


def read_closes(rec, conn, what: str, symbols: list[str], since: date, until: date):
    """The closes of ``symbols`` from ``since`` to ``until`` as sessions x symbols (``ledger.prices.close_table``),
    one read ``rec`` (the answer's ``Recorder``) keeps as evidence under ``what``."""
    return rec.read(
        "postgres",
        what,
        ledger.prices.CLOSE_TABLE_SQL,
        {"symbols": symbols, "since": since, "until": until},
        lambda: ledger.prices.close_table(conn, symbols, since=since, until=until),
        lambda table: {"sessions": len(table), "symbols": table.shape[1]},
    )
