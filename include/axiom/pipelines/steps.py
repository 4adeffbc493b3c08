"""Each pipeline's one declared list of steps, read by every runner: its DAG, the CLI, ``rebuild`` and
the benchmarks, so a step added to a pipeline lands everywhere at once.

A pipeline opens a run with its first function (``fetch``, ``load_fundamentals``, ``collect``,
``compute``: each takes the run's Params), then runs its ``STEPS`` in order on that run. Every step
has the shape ``step(conn, run_id, *, <store clients by name>, **settings)``; a ``Step`` says which
store it writes, which settings it takes (keyword -> ``Settings`` attribute), whether it fans out
over symbol chunks, and which steps it waits for (by default the one listed before it).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from axiom.models import NothingChanged
from axiom.stores import ledger

log = logging.getLogger(__name__)

CLIENTS = ("redis_client", "driver", "chroma_client", "judge")  # the store clients a step may name
WRITES = ("landing", "postgres", "redis", "neo4j", "chroma", "pubsub")


def clients_of(step: Callable) -> list[str]:
    """The store clients a step takes: its keyword-only parameters named in ``CLIENTS``."""
    params = inspect.signature(step).parameters
    return [n for n, p in params.items() if p.kind is p.KEYWORD_ONLY and n in CLIENTS]


@dataclass(frozen=True)
class Step:
    """One step after a pipeline's first: what it runs, what it writes and what it takes."""

    run: Callable
    writes: str
    settings: Mapping[str, str] = field(default_factory=dict)
    fan_out: bool = False
    after: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.writes not in WRITES:
            raise ValueError(f"step {self.name} writes {self.writes!r}; choose from {', '.join(WRITES)}")
        params = inspect.signature(self.run).parameters
        needs = {n for n, p in params.items() if p.kind is p.KEYWORD_ONLY and p.default is p.empty} - set(CLIENTS)
        if needs != set(self.settings):
            raise TypeError(f"step {self.name} takes settings {sorted(needs)}, declared {sorted(self.settings)}")
        if self.fan_out and "symbols" not in params:
            raise TypeError(f"step {self.name} takes no symbols, so it cannot fan out over chunks")

    @property
    def name(self) -> str:
        return self.run.__name__

    @property
    def clients(self) -> list[str]:
        return clients_of(self.run)

    def kwargs(self, settings) -> dict:
        """The step's settings as keyword arguments, read from ``settings`` (an ``axiom.config.Settings``)."""
        return {keyword: getattr(settings, attribute) for keyword, attribute in self.settings.items()}


def upstream(steps: Sequence[Step]) -> dict[str, tuple[str, ...]]:
    """Per step, the steps it waits for: those it names, else the one listed before it."""
    names = [s.name for s in steps]
    if len(set(names)) != len(names):
        raise ValueError(f"a pipeline lists a step twice: {names}")
    out = {}
    for i, step in enumerate(steps):
        after = step.after if step.after is not None else tuple(names[i - 1 : i])
        unknown = [a for a in after if a not in names[:i]]
        if unknown:
            raise ValueError(f"step {step.name} waits for {unknown}, which are not listed before it")
        out[step.name] = after
    return out


INCREMENT_DAYS = 31  # a run of at most this span is one chunk: an evening's (or a week's) bars, not a backfill


def symbol_chunks(conn, run_id: int, *, size: int) -> list[list[str]]:
    """The run's symbols in chunks (``chunks``), one mapped task each for the steps that fan out."""
    return chunks(ledger.runs.scope(conn, run_id), size=size)


def chunks(scope, *, size: int) -> list[list[str]]:
    """``scope``'s symbols in chunks of at most ``size`` when it is a backfill; in one chunk when it spans at most
    ``INCREMENT_DAYS`` (a live increment writes a window or two per symbol: less work than a task's start).

    A run without symbols still gets one (empty) chunk, so its fanned-out steps run, write nothing,
    and the steps after them (``announce`` closes the run) are not skipped with it left open.
    """
    if size < 1:
        raise ValueError(f"a symbol chunk holds at least one symbol, not {size}")
    symbols = list(scope.symbols)
    if scope.start and scope.end and (scope.end - scope.start).days <= INCREMENT_DAYS:
        return [symbols]
    return [symbols[i : i + size] for i in range(0, len(symbols), size)] or [[]]


def stamp(conn, run_id: int, step: str, work_seconds: float) -> None:
    """Stamp the hop ``PIPELINE.STEP`` of the session the run brings in (its end date, or the newest as-of
    it computes; a run of open dates, a backfill, is no session's hop) after ``work_seconds`` of its work:
    what the live path's hop table reads (``axiom.replay``)."""
    run = ledger.runs.get_run(conn, run_id)
    session = run.scope.end or run.scope.latest_as_of
    if session is not None:
        ledger.live.stamp(conn, session, f"{run.pipeline}.{step}", work_seconds)


def run_all(conn, run_id: int, steps: Sequence[Step], clients: Mapping[str, object], settings) -> dict:
    """Run ``steps`` in their listed order on one run (the CLI's way; a step that fans out runs once on
    all the run's symbols); return what each returned. A step that finds nothing changed (``announce``
    of a run that loaded nothing new) ends the run there, as it skips the rest of a DAG run."""
    done = {}
    for step in steps:
        try:
            done[step.name] = step.run(conn, run_id, **{c: clients[c] for c in step.clients}, **step.kwargs(settings))
        except NothingChanged as nothing:
            log.info("run %d: %s", run_id, nothing)
            done[step.name] = str(nothing)
            break
    return done


def writing(steps: Sequence[Step], store: str) -> list[Step]:
    """The steps that write ``store``, in their listed order (what a rebuild of that store runs)."""
    return [s for s in steps if s.writes == store]
