"""What every question shares: the stores it reads, what it is about, and its resolved request."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

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
