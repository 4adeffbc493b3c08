"""What an analyst is asked, what it answers, and how an answer is checked before it is kept.

Both analysts (Claude and the rule-based one) return the same types and pass the same checks;
an answer that fails a check raises ``AnalystError`` with the reason and is never stored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from axiom.models import EVENT_TYPES, Company, EventInput


class AnalystError(RuntimeError):
    """An analyst could not give a valid answer; the message is the reason."""


@dataclass(frozen=True)
class Competitor:
    symbol: str
    intensity: float
    rationale: str


@dataclass(frozen=True)
class Classification:
    event_type: str
    impact: float
    sentiment: float
    rationale: str


INSIGHT_LABELS = {"buy": ("BUY", "HOLD", "SELL"), "rotation": ("RANKED",), "cascade": ("RANKED",), "like": ("RANKED",)}


@dataclass(frozen=True)
class Ranked:
    """One entry of a ranked verdict, with its reason in plain words."""

    name: str
    score: float
    reason: str


@dataclass(frozen=True)
class Verdict:
    """The analyst's answer to a user's question: BUY / HOLD / SELL (RANKED for list answers), a confidence
    in [0, 1], any ranking (best first) and the reasons in plain words. The one shape an answer carries."""

    label: str
    confidence: float
    ranking: tuple[Ranked, ...]
    reasons: tuple[str, ...]

    @classmethod
    def from_json(cls, data: dict) -> Verdict:
        return cls(
            data["label"], data["confidence"], tuple(Ranked(**r) for r in data["ranking"]), tuple(data["reasons"])
        )


class Analyst(Protocol):
    name: str
    model: str
    prompt_version: str

    def competitors(self, company: Company, universe: list[Company]) -> list[Competitor]: ...

    def classify_event(self, event: EventInput) -> Classification: ...

    def explain_correlation(self, a: Company, b: Company, direction: int, window: int) -> str:
        """Why a's and b's daily returns move together (direction +1) or apart (-1) over ``window`` sessions."""
        ...

    def answer(self, question: str, facts: dict) -> Verdict: ...


def _number(value, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise AnalystError(f"{name} is not a number: {value!r}")
    if not low <= value <= high:
        raise AnalystError(f"{name} {value} is outside [{low}, {high}]")
    return float(value)


def _text(value, name: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise AnalystError(f"{name} is missing or not text")
    if len(value) > limit:
        raise AnalystError(f"{name} is longer than {limit} characters")
    return value.strip()


def check_competitors(answer, company: Company, universe: list[Company]) -> list[Competitor]:
    """Competitors must be other companies of the universe, each once, with intensity in [0, 1]."""
    if not isinstance(answer, list):
        raise AnalystError("competitors is not a list")
    known = {c.symbol for c in universe}
    out: dict[str, Competitor] = {}
    for item in answer:
        if not isinstance(item, dict):
            raise AnalystError(f"competitor entry is not an object: {item!r}")
        symbol = item.get("symbol")
        if symbol not in known:
            raise AnalystError(f"competitor {symbol!r} is not in the universe")
        if symbol == company.symbol:
            raise AnalystError(f"{symbol} cannot compete with itself")
        out[symbol] = Competitor(
            symbol=symbol,
            intensity=_number(item.get("intensity"), "intensity", 0.0, 1.0),
            rationale=_text(item.get("rationale"), "rationale", 500),
        )
    return sorted(out.values(), key=lambda c: (-c.intensity, c.symbol))


def check_classification(answer) -> Classification:
    """The type must be one of EVENT_TYPES, impact in [0, 1], sentiment in [-1, 1]."""
    if not isinstance(answer, dict):
        raise AnalystError("classification is not an object")
    event_type = answer.get("event_type")
    if event_type not in EVENT_TYPES:
        raise AnalystError(f"event_type {event_type!r} is not one of {', '.join(EVENT_TYPES)}")
    return Classification(
        event_type=event_type,
        impact=_number(answer.get("impact"), "impact", 0.0, 1.0),
        sentiment=_number(answer.get("sentiment"), "sentiment", -1.0, 1.0),
        rationale=_text(answer.get("rationale"), "rationale", 500),
    )


def check_explanation(answer) -> str:
    if not isinstance(answer, dict):
        raise AnalystError("explanation is not an object")
    return _text(answer.get("explanation"), "explanation", 1000)


def check_insight(answer, question: str, candidates: list[str]) -> Verdict:
    """The label must fit the question, every ranked name must be a candidate (each once), scores finite,
    confidence in [0, 1], and one to eight reasons in plain text."""
    if not isinstance(answer, dict):
        raise AnalystError("answer is not an object")
    label = answer.get("label")
    if label not in INSIGHT_LABELS[question]:
        raise AnalystError(f"label {label!r} is not one of {', '.join(INSIGHT_LABELS[question])}")
    ranking = answer.get("ranking") or []
    if not isinstance(ranking, list):
        raise AnalystError("ranking is not a list")
    seen: set[str] = set()
    checked = []
    for item in ranking:
        if not isinstance(item, dict) or item.get("name") not in candidates or item["name"] in seen:
            raise AnalystError(f"ranked entry {str(item)[:80]!r} is not a distinct candidate")
        seen.add(item["name"])
        checked.append(
            Ranked(
                item["name"], _number(item.get("score"), "score", -1e6, 1e6), _text(item.get("reason"), "reason", 500)
            )
        )
    reasons = answer.get("reasons")
    if not isinstance(reasons, list) or not 1 <= len(reasons) <= 8:
        raise AnalystError("reasons must be a list of one to eight sentences")
    return Verdict(
        label=label,
        confidence=_number(answer.get("confidence"), "confidence", 0.0, 1.0),
        ranking=tuple(checked),
        reasons=tuple(_text(r, "reason", 500) for r in reasons),
    )
