"""The one shape of every answer: the CLI prints it, the ``ask`` DAG logs it, the API returns it,
the page draws it, the ledger and Redis keep it."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from axiom.analysts.base import Verdict

STORES = ("redis", "postgres", "neo4j", "chroma")


@dataclass(frozen=True)
class Evidence:
    """What one store said: the facts, the query that gave them (with its parameters), and how long it took."""

    store: str
    what: str
    query: str
    params: dict
    facts: Any
    latency_ms: float


@dataclass(frozen=True)
class Insight:
    question: str
    subject: str
    as_of: date
    params: dict
    verdict: Verdict  # the analyst's label, confidence, ranking and reasons
    evidence: tuple[Evidence, ...]
    analyst: str
    model: str
    prompt_version: str
    total_ms: float
    cached: str | None = None  # "redis" or "ledger" when this answer was read back, not computed
    notes: tuple[str, ...] = field(default=())
    data_version: dict = field(default_factory=dict)  # per pipeline, its newest run [id, status] when answered
    kept: bool = False  # whether the answer was kept (an answer whose evidence is incomplete is not)

    def latency_by_store(self) -> dict[str, float]:
        """Milliseconds spent in each store, in store order."""
        out = {s: 0.0 for s in STORES}
        for e in self.evidence:
            out[e.store] = out.get(e.store, 0.0) + e.latency_ms
        return {s: round(ms, 2) for s, ms in out.items()}

    def to_json(self) -> dict:
        out = asdict(self)
        out["as_of"] = self.as_of.isoformat()
        out["latency_by_store"] = self.latency_by_store()
        return out

    @classmethod
    def from_json(cls, data: dict, *, cached: str | None = None) -> Insight:
        return cls(
            question=data["question"],
            subject=data["subject"],
            as_of=date.fromisoformat(data["as_of"]),
            params=data["params"],
            verdict=Verdict.from_json(data["verdict"]),
            evidence=tuple(Evidence(**e) for e in data["evidence"]),
            analyst=data["analyst"],
            model=data["model"],
            prompt_version=data["prompt_version"],
            total_ms=data["total_ms"],
            cached=cached,
            notes=tuple(data["notes"]),
            data_version=data["data_version"],
            kept=data["kept"],
        )


def _new_readers() -> None:
    """The threads this process's concurrent reads run on (``Recorder.begin``): a read only waits on a store, so
    they are cheap; enough for the api-server's concurrent answers to begin two or three reads each. A forked
    child makes its own: a pool's threads do not survive a fork, and the copy would wait for them forever."""
    global _READERS
    _READERS = ThreadPoolExecutor(max_workers=32, thread_name_prefix="axiom-read")


_READERS: ThreadPoolExecutor
_new_readers()
os.register_at_fork(after_in_child=_new_readers)


class Recorder:
    """Times each store read and keeps it as evidence, with the notes and gaps of the answer."""

    def __init__(self) -> None:
        self.evidence: list[Evidence | None] = []  # a read's slot is None until it has returned
        self.notes: list[str] = []
        self.gaps: list[str] = []
        self._begun: list[Future] = []

    def read(self, store: str, what: str, query: str, params: dict, fn: Callable[[], Any], summary=None) -> Any:
        """Run ``fn`` (one read of ``store``), record its facts (``summary(result)`` or the result) and latency."""
        self.evidence.append(None)
        return self._run(len(self.evidence) - 1, store, what, query, params, fn, summary)

    def begin(self, store: str, what: str, query: str, params: dict, fn: Callable[[], Any], summary=None) -> Future:
        """``read`` on a reader thread, for a read that needs nothing the answer has yet to read: reads of
        different stores then wait on their sockets at once. ``.result()`` gives what ``fn`` returned (or raises
        what it raised); the evidence keeps the order in which the reads began."""
        self.evidence.append(None)
        self._begun.append(_READERS.submit(self._run, len(self.evidence) - 1, store, what, query, params, fn, summary))
        return self._begun[-1]

    def settle(self) -> None:
        """Wait for every read begun: an answer that fails part-way leaves no read running on its connections."""
        wait(self._begun)

    def _run(self, slot: int, store: str, what: str, query: str, params: dict, fn, summary) -> Any:
        started = time.perf_counter()
        result = fn()
        ms = (time.perf_counter() - started) * 1000
        facts = summary(result) if summary else result
        self.evidence[slot] = Evidence(
            store, what, " ".join(query.split()), _jsonable(params), _jsonable(facts), round(ms, 3)
        )
        return result

    def note(self, text: str) -> None:
        """Something the reader must know about the answer (a fallback, a reference fact, staleness)."""
        self.notes.append(text)

    def gap(self, text: str) -> None:
        """Evidence the answer lacks (a store down or empty, data being written): it says so and is not kept."""
        self.gaps.append(text)
        self.notes.append(f"incomplete: {text}; this answer is not kept")


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 6)
    if hasattr(value, "item"):  # numpy scalars
        return _jsonable(value.item())
    return value
