"""Records shared by sources, stores, analysts and readers: what a company and an event are.

They live here, below every layer that uses them, so the store layer never imports upward.
"""

from __future__ import annotations

from dataclasses import dataclass, field

EVENT_TYPES = ("earnings", "merger", "fed_decision", "guidance", "legal", "product", "macro", "price_move", "other")


class NothingChanged(Exception):
    """A run found nothing new, so its last step announces nothing (and, in Airflow, emits no Asset event)."""


@dataclass(frozen=True)
class Company:
    """A company's facts from its latest snapshot."""

    symbol: str
    name: str
    sector: str
    industry: str
    market_cap_usd: float | None = None
    debt_to_equity: float | None = None
    description: str = ""


@dataclass(frozen=True)
class EventInput:
    """An event as the analyst sees it: text plus measured facts (e.g. z-score, basis points)."""

    title: str
    summary: str = ""
    symbol: str | None = None
    source: str = ""
    facts: dict = field(default_factory=dict)
