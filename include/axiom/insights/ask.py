"""Ask a question: resolve it, read the cache, gather the evidence, let the analyst judge, keep the answer."""

from __future__ import annotations

import hashlib
import json
import logging
import time

from axiom.analysts.judge import Judge
from axiom.insights import buy, cascade, like, rotation
from axiom.insights.answer import Insight, Ranked, Recorder, Verdict
from axiom.insights.common import Stores
from axiom.stores import cache, ledger

log = logging.getLogger(__name__)

QUESTIONS = {m.QUESTION: m for m in (buy, rotation, cascade, like)}
REDIS_DOWN = "Redis is unavailable: what it caches (answers, latest prices, sector momentum) was read from the ledger"


def insight_key(question: str, subject: str, as_of, params: dict, judge: Judge) -> str:
    """A hash of everything that decides the answer: the question, its subject, session and parameters,
    and who answers (analyst, model, prompt version)."""
    analyst = judge.chain[0]
    text = json.dumps(
        [question, subject, as_of.isoformat(), params, analyst.name, analyst.model, analyst.prompt_version],
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(text.encode()).hexdigest()


def ask(
    stores: Stores,
    question: str,
    *,
    judge: Judge,
    subject: str | None = None,
    as_of=None,
    params: dict | None = None,
    use_cache: bool = True,
    ttl_seconds: int = 86_400,
) -> Insight:
    """Answer ``question`` about ``subject`` as of ``as_of``; ValueError/LookupError say what is wrong with the ask."""
    if question not in QUESTIONS:
        raise ValueError(f"unknown question {question!r}; choose from {', '.join(QUESTIONS)}")
    module = QUESTIONS[question]
    started = time.perf_counter()
    request = module.resolve(stores.conn, subject, as_of, params or {})
    key = insight_key(question, request.subject, request.as_of, request.params, judge)
    redis_up = cache.reachable(stores.redis_client)
    if not redis_up:  # Redis holds only copies of ledger facts: answer from the ledger, and say so
        stores = Stores(stores.conn, None, stores.driver, stores.chroma_client)
    if use_cache:
        found = cache.read_json(stores.redis_client, cache.insight_key(key))
        if found is not None:
            return Insight.from_json(found, cached="redis")
        found = ledger.insights.find(stores.conn, key)
        if found is not None:
            if redis_up:
                cache.cache_json(stores.redis_client, {cache.insight_key(key): found}, ttl_seconds=ttl_seconds)
            else:
                found = {**found, "notes": [*found.get("notes", ()), REDIS_DOWN]}
            return Insight.from_json(found, cached="ledger")
    rec = Recorder()
    if not redis_up:
        rec.note(f"{REDIS_DOWN}; this answer is not kept")
    facts = module.gather(stores, rec, request)
    judgement = judge.answer(question, facts)
    answer = judgement.value
    insight = Insight(
        question=question,
        subject=request.subject,
        as_of=request.as_of,
        params=request.params,
        verdict=Verdict(
            answer.label, answer.confidence, tuple(Ranked(r["name"], r["score"], r["reason"]) for r in answer.ranking)
        ),
        reasons=tuple(answer.reasons),
        evidence=tuple(rec.evidence),
        analyst=judgement.analyst,
        model=judgement.model,
        prompt_version=judgement.prompt_version,
        total_ms=round((time.perf_counter() - started) * 1000, 3),
        notes=tuple(rec.notes),
    )
    if use_cache and redis_up:
        body = insight.to_json()
        ledger.insights.store(
            stores.conn, key, question=question, subject=request.subject, params=request.params, as_of=request.as_of,
            answer=body, analyst=insight.analyst, model=insight.model, prompt_version=insight.prompt_version,
            latency_ms=insight.total_ms,
        )  # fmt: skip
        cache.cache_json(stores.redis_client, {cache.insight_key(key): body}, ttl_seconds=ttl_seconds)
    log.info("%s %s as of %s: %s in %.0f ms", question, request.subject, request.as_of, answer.label, insight.total_ms)
    return insight


def render(insight: Insight) -> str:
    """The answer as a person reads it in a terminal or a task log."""
    head = f"{insight.question.upper()} {insight.subject} as of {insight.as_of}: {insight.verdict.label}"
    lines = [f"{head} (confidence {insight.verdict.confidence:.2f}, {insight.analyst}/{insight.model})"]
    if insight.cached:
        lines.append(f"  (a cache hit: read back from {insight.cached}, not recomputed)")
    lines += [f"  - {r}" for r in insight.reasons]
    for i, r in enumerate(insight.verdict.ranking, 1):
        lines.append(f"  {i:>2}. {r.name:<24} {r.score:+.4f}  {r.reason}")
    lines += [f"  note: {n}" for n in insight.notes]
    lines.append("  evidence:")
    for e in insight.evidence:
        lines.append(f"    [{e.store:<8}] {e.what:<48} {e.latency_ms:8.1f} ms")
    by_store = "  ".join(f"{s} {ms:.1f} ms" for s, ms in insight.latency_by_store().items())
    lines.append(f"  latency: {by_store}  total {insight.total_ms:.1f} ms")
    return "\n".join(lines)
