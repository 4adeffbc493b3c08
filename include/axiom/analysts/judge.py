"""The judge: asks the analyst, falls back when it fails, and caches every answer in the ledger.

Answers are kept in ``analyst_judgement`` under a hash of (analyst, model, prompt version,
task, input): the same question again is read back, not asked. Lookups and writes are batched.
When the primary analyst (Claude) fails or gives an invalid answer, the reason is logged and
the fallback (rules) answers; after ``breaker`` failures in a row the primary is skipped for the
rest of the batch, so an outage does not cost every item its retries. The paid analyst spends from
a ``Budget``: one per process (every judge a process makes shares it, so an API serving many
requests has one cap) and one per UTC day across the whole ledger; past either, the fallback answers
and the judgement says why.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Generic, TypeVar

from axiom.analysts.base import Analyst, AnalystError, Classification, Competitor, Verdict
from axiom.analysts.rules import RuleBasedAnalyst
from axiom.models import Company, EventInput
from axiom.stores import ledger

log = logging.getLogger(__name__)
T = TypeVar("T")
ItemT = TypeVar("ItemT")


@dataclass(frozen=True)
class Judgement(Generic[T]):
    """An answer and who gave it (with why, when a fallback gave it)."""

    value: T
    analyst: str
    model: str
    prompt_version: str
    why: str | None = None


@dataclass
class Budget:
    """Calls the paid analyst may make: ``per_process`` in this process (None: no cap) and ``per_day`` across
    the whole ledger in one UTC day, counted from the answers it keeps (None: no budget)."""

    per_process: int | None = None
    per_day: int | None = None
    used: int = 0

    @classmethod
    def from_env(cls) -> Budget:
        def limit(name: str) -> int | None:
            value = os.environ.get(name, "").strip()
            return int(value) if value else None

        return cls(limit("AXIOM_MAX_ANALYST_CALLS"), limit("AXIOM_DAILY_ANALYST_CALLS"))

    def refusal(self, spent_today: int, analyst: str) -> str | None:
        """Why the next call may not be made (``spent_today``: the ledger's calls so far today), or None."""
        if self.per_process is not None and self.used >= self.per_process:
            return f"this process's cap of {self.per_process} {analyst} calls is reached"
        if self.per_day is not None and spent_today >= self.per_day:
            return f"today's budget of {self.per_day} {analyst} calls (AXIOM_DAILY_ANALYST_CALLS) is spent"
        return None


PROCESS_BUDGET = Budget.from_env()  # shared by every judge this process makes (judge_from_env)


def cache_key(analyst: Analyst, task: str, payload: dict) -> str:
    text = json.dumps([analyst.name, analyst.model, analyst.prompt_version, task, payload], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class Judge:
    """One entry point for judgement, used by every pipeline and workflow."""

    def __init__(
        self, conn, primary: Analyst, fallback: Analyst | None = None, *, breaker: int = 3, budget: Budget | None = None
    ) -> None:
        """``budget`` bounds the calls to an analyst that has a fallback (the paid one): past it, the fallback
        answers the rest, so nothing can spend without bound."""
        self.conn = conn
        self.chain = [a for a in (primary, fallback) if a is not None]
        self.breaker = breaker
        self.budget = budget or Budget()
        self.stats = {"analyst_calls": 0, "cache_hits": 0, "rejected_answers": 0, "fallbacks": 0}

    def ask_many(
        self,
        task: str,
        items: Sequence[ItemT],
        *,
        payload: Callable[[ItemT], dict],
        call: Callable[[Analyst, ItemT], T],
        encode: Callable[[T], Any],
        decode: Callable[[Any], T],
    ) -> list[Judgement[T]]:
        """Answer every item: from the cache, else the first analyst of the chain that gives a valid answer."""
        results: list[Judgement[T] | None] = [None] * len(items)
        why: dict[int, str] = {}  # why an item went to a later analyst of the chain
        pending = list(range(len(items)))
        for position, analyst in enumerate(self.chain):
            if not pending:
                break
            payloads = {i: payload(items[i]) for i in pending}
            keys = {i: cache_key(analyst, task, payloads[i]) for i in pending}
            cached = ledger.judgements.lookup(self.conn, list(keys.values()))
            fresh, failed, streak, refused = [], [], 0, None
            capped = position + 1 < len(self.chain)  # the budget binds the analyst that has a fallback
            spent_today = ledger.judgements.calls_today(self.conn, analyst.name) if capped else 0
            for i in pending:
                if keys[i] in cached:
                    results[i] = Judgement(
                        decode(cached[keys[i]]), analyst.name, analyst.model, analyst.prompt_version, why.get(i)
                    )
                    self.stats["cache_hits"] += 1
                    continue
                if streak >= self.breaker:
                    failed.append(i)
                    why[i] = f"{analyst.name} failed {streak} times in a row"
                    continue
                refusal = self.budget.refusal(spent_today + len(fresh), analyst.name) if capped else None
                if refusal:
                    if refused is None:
                        log.warning("%s: %s; the rest go to the fallback", analyst.name, refusal)
                    refused = refusal
                    failed.append(i)
                    why[i] = refusal
                    continue
                try:
                    self.stats["analyst_calls"] += 1
                    self.budget.used += capped
                    value = call(analyst, items[i])
                except AnalystError as exc:
                    self.stats["rejected_answers"] += 1
                    streak += 1
                    why[i] = f"{analyst.name} gave no valid answer ({exc})"
                    log.warning("%s answer to %s rejected: %s", analyst.name, task, exc)
                    if streak == self.breaker:
                        log.warning(
                            "%s failed %d times in a row: skipping it for the rest of this batch", analyst.name, streak
                        )
                    failed.append(i)
                    continue
                streak = 0
                results[i] = Judgement(value, analyst.name, analyst.model, analyst.prompt_version, why.get(i))
                usage = getattr(analyst, "last_usage", {}) or {}
                fresh.append(
                    {
                        "cache_key": keys[i],
                        "task": task,
                        "analyst": analyst.name,
                        "model": analyst.model,
                        "prompt_version": analyst.prompt_version,
                        "input": payloads[i],
                        "output": encode(value),
                        **{k: usage.get(k) for k in ("input_tokens", "output_tokens", "latency_ms")},
                    }
                )
            ledger.judgements.store(self.conn, fresh)
            if failed and position + 1 < len(self.chain):
                self.stats["fallbacks"] += len(failed)
                log.warning("falling back to %s for %d %s request(s)", self.chain[position + 1].name, len(failed), task)
            pending = failed
        if pending:
            raise AnalystError(f"no analyst gave a valid answer to {len(pending)} {task} request(s)")
        return results  # type: ignore[return-value]

    def competitors(self, companies: Sequence[Company], universe: list[Company]) -> list[Judgement[list[Competitor]]]:
        symbols = sorted(c.symbol for c in universe)
        return self.ask_many(
            "competitors",
            companies,
            payload=lambda c: {"company": asdict(c), "universe": symbols},
            call=lambda analyst, c: analyst.competitors(c, universe),
            encode=lambda value: [asdict(x) for x in value],
            decode=lambda out: [Competitor(**x) for x in out],
        )

    def classify_events(self, events: Sequence[EventInput]) -> list[Judgement[Classification]]:
        return self.ask_many(
            "classify_event",
            events,
            payload=asdict,
            call=lambda analyst, e: analyst.classify_event(e),
            encode=asdict,
            decode=lambda out: Classification(**out),
        )

    def explain_correlations(self, pairs: Sequence[tuple[Company, Company, int, int]]) -> list[Judgement[str]]:
        """Why each pair (a, b, direction +1/-1, window in sessions) moves together or apart."""
        return self.ask_many(
            "explain_correlation",
            pairs,
            payload=lambda p: {"a": asdict(p[0]), "b": asdict(p[1]), "direction": p[2], "window": p[3]},
            call=lambda analyst, p: analyst.explain_correlation(*p),
            encode=lambda text: {"explanation": text},
            decode=lambda out: out["explanation"],
        )

    def answer(self, question: str, facts: dict) -> Judgement[Verdict]:
        """The analyst's answer to a user's question from the facts gathered (cached like every answer)."""
        [judgement] = self.ask_many(
            f"answer_{question}",
            [facts],
            payload=lambda f: f,
            call=lambda analyst, f: analyst.answer(question, f),
            encode=asdict,
            decode=lambda out: Verdict.from_json(out),
        )
        return judgement


def judge_from_env(conn) -> Judge:
    """Claude (falling back to rules, spending from this process's ``PROCESS_BUDGET``) when ANTHROPIC_API_KEY is
    set; the rule-based analyst otherwise."""
    rules = RuleBasedAnalyst()
    if os.environ.get("ANTHROPIC_API_KEY"):
        from axiom.analysts.claude import ClaudeAnalyst

        return Judge(conn, ClaudeAnalyst(), rules, budget=PROCESS_BUDGET)
    return Judge(conn, rules)
