"""Ask a question: resolve it, read the cache, gather the evidence, let the analyst judge, keep the answer."""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import time

from axiom.analysts.judge import Judge
from axiom.insights import buy, cascade, like, rotation
from axiom.insights.answer import Insight, Recorder
from axiom.insights.common import Stores
from axiom.stores import cache, ledger

log = logging.getLogger(__name__)

QUESTIONS = {m.QUESTION: m for m in (buy, rotation, cascade, like)}
SHAPE = 2  # of a kept answer (2: the reasons in the verdict, the data version); no older shape is read back
REDIS_DOWN = "Redis is unavailable: what it caches (answers, latest prices, sector momentum) was read from the ledger"


def insight_key(question: str, request, analyst: tuple[str, str, str], version: dict) -> str:
    """A hash of everything that decides the answer: the question, its subject, session and parameters, who
    answers (analyst, model, prompt version) and the version of the data (each pipeline's newest run)."""
    text = json.dumps(
        [SHAPE, question, request.subject, request.as_of.isoformat(), request.params, analyst, version],
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
    """Answer ``question`` about ``subject`` as of ``as_of``; ValueError/LookupError say what is wrong with the ask.

    A kept answer is read back only for the same question, data version and the analyst that would answer
    now (the first of the judge's chain): an answer a fallback gave is kept under the fallback's name, and
    an answer whose evidence is incomplete is not kept at all. Redis holds only copies of ledger facts: when
    a read of it fails, the answer is made again from the ledger and says so (no PING before every answer)."""
    if question not in QUESTIONS:
        raise ValueError(f"unknown question {question!r}; choose from {', '.join(QUESTIONS)}")
    answer = functools.partial(
        _answer, question, judge=judge, subject=subject, as_of=as_of, params=params or {}, use_cache=use_cache,
        ttl_seconds=ttl_seconds, started=time.perf_counter(),
    )  # fmt: skip
    try:
        return answer(stores)
    except cache.UNAVAILABLE as exc:
        log.warning("%s; answering %s from the ledger", exc, question)
        return answer(Stores(stores.conn, None, stores.driver, stores.chroma_client))


def _answer(
    question: str,
    stores: Stores,
    *,
    judge: Judge,
    subject,
    as_of,
    params: dict,
    use_cache: bool,
    ttl_seconds: int,
    started: float,
) -> Insight:
    """``ask`` with Redis as it is (``stores.redis_client`` None: unavailable); ``started``: when it was asked."""
    module = QUESTIONS[question]
    request = module.resolve(stores.conn, subject, as_of, params)
    runs = {p: list(run) for p, run in sorted(ledger.runs.newest_runs(stores.conn).items())}
    version = {**runs, "evaluation": ledger.signals.evaluated_at(stores.conn)}  # and the track record it carries
    first = judge.chain[0]
    redis_up = stores.redis_client is not None
    if use_cache:
        key = insight_key(question, request, (first.name, first.model, first.prompt_version), version)
        found = cache.read_json(stores.redis_client, cache.insight_key(key))
        if found is not None:
            return Insight.from_json(found, cached="redis")
        found = ledger.insights.find(stores.conn, key)
        if found is not None:
            if redis_up:
                cache.cache_json(stores.redis_client, {cache.insight_key(key): found}, ttl_seconds=ttl_seconds)
            else:
                found = {**found, "notes": [*found["notes"], REDIS_DOWN]}
            return Insight.from_json(found, cached="ledger")
    rec = Recorder()
    if as_of is None:  # live: the newest session the ledger holds (a replay's clock, or the last close loaded)
        rec.note(f"asked without a date: answered as of the newest session, {request.as_of}")
    if not redis_up:
        rec.gap(REDIS_DOWN)
    moving = [p for p, (_, status) in runs.items() if status == "running"]
    if moving:
        rec.gap(f"{', '.join(moving)} {'is' if len(moving) == 1 else 'are'} writing the stores right now")
    try:
        facts = module.gather(stores, rec, request)
    finally:
        rec.settle()
    judgement = judge.answer(question, facts)
    if judgement.analyst != first.name:
        rec.note(f"the {judgement.analyst} analyst answered: {judgement.why}")
    for note in getattr(module, "judged", lambda facts, verdict: [])(facts, judgement.value):
        rec.note(note)  # the question's own words on the verdict (the buy answer's track record)
    keep = use_cache and not rec.gaps
    insight = Insight(
        question=question,
        subject=request.subject,
        as_of=request.as_of,
        params=request.params,
        verdict=judgement.value,
        evidence=tuple(rec.evidence),
        analyst=judgement.analyst,
        model=judgement.model,
        prompt_version=judgement.prompt_version,
        total_ms=round((time.perf_counter() - started) * 1000, 3),
        notes=tuple(rec.notes),
        data_version=version,
        kept=keep,
    )
    log.info("%s %s as of %s: %s in %.0f ms", question, request.subject, request.as_of, insight.verdict.label,
             insight.total_ms)  # fmt: skip
    if not keep:
        return insight
    key = insight_key(question, request, (judgement.analyst, judgement.model, judgement.prompt_version), version)
    body = insight.to_json()
    kept = ledger.insights.store(
        stores.conn, key, question=question, subject=request.subject, params=request.params, as_of=request.as_of,
        answer=body, analyst=insight.analyst, model=insight.model, prompt_version=insight.prompt_version,
        latency_ms=insight.total_ms,
    )  # fmt: skip
    cache.cache_json(stores.redis_client, {cache.insight_key(key): kept}, ttl_seconds=ttl_seconds)
    if kept == json.loads(json.dumps(body, default=str)):
        return insight
    return Insight.from_json(kept, cached="ledger")  # another ask of the same question kept its answer first


def render(insight: Insight) -> str:
    """The answer as a person reads it in a terminal or a task log."""
    head = f"{insight.question.upper()} {insight.subject} as of {insight.as_of}: {insight.verdict.label}"
    lines = [f"{head} (confidence {insight.verdict.confidence:.2f}, {insight.analyst}/{insight.model})"]
    if insight.cached:
        lines.append(f"  (a cache hit: read back from {insight.cached}, not recomputed)")
    lines += [f"  - {r}" for r in insight.verdict.reasons]
    for i, r in enumerate(insight.verdict.ranking, 1):
        lines.append(f"  {i:>2}. {r.name:<24} {r.score:+.4f}  {r.reason}")
    lines += [f"  note: {n}" for n in insight.notes]
    lines.append("  evidence:")
    for e in insight.evidence:
        lines.append(f"    [{e.store:<8}] {e.what:<48} {e.latency_ms:8.1f} ms")
    by_store = "  ".join(f"{s} {ms:.1f} ms" for s, ms in insight.latency_by_store().items())
    lines.append(f"  latency: {by_store}  total {insight.total_ms:.1f} ms")
    return "\n".join(lines)
