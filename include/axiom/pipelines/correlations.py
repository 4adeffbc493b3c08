"""Pipeline 4, correlations: matrices from ledger returns -> significant pairs -> explanations ->
Neo4j CORRELATED_WITH -> Redis -> Chroma -> announce.

See ``axiom.analytics.correlation`` for the return (simple), window and estimator (Pearson,
pairwise-complete). A backfill computes one matrix per month-end from a single read of history.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from axiom import index
from axiom.analysts.judge import Judge
from axiom.analytics.correlation import DEFAULT_WINDOW, CorrelationMatrix, correlations_at, month_ends, returns_matrix
from axiom.calendar import history_start
from axiom.models import Company
from axiom.pipelines.steps import Step
from axiom.stores import cache, graph, ledger, vectors
from axiom.validation import parse_date, parse_dates, parse_symbols

log = logging.getLogger(__name__)

PIPELINE = "correlations"
TOP_PER_SYMBOL = 5


@dataclass(frozen=True)
class CorrelationParams:
    """``as_of`` None means the latest bar; ``backfill_start``/``backfill_end`` ask for every month-end between."""

    symbols: list[str] | None = None
    window: int = DEFAULT_WINDOW
    threshold: float = 0.7
    as_of: date | None = None
    backfill_start: date | None = None
    backfill_end: date | None = None

    def __post_init__(self):
        if not 5 <= self.window <= 1000:
            raise ValueError(f"window must be between 5 and 1000 sessions, got {self.window}")
        if not 0 < self.threshold <= 1:
            raise ValueError(f"threshold must be in (0, 1], got {self.threshold}")
        if bool(self.backfill_start) != bool(self.backfill_end):
            raise ValueError("a backfill needs both backfill_start and backfill_end")

    @classmethod
    def parse(cls, params: dict) -> CorrelationParams:
        start, end = parse_dates(
            params.get("backfill_start"), params.get("backfill_end"), ("backfill_start", "backfill_end")
        )
        return cls(
            symbols=parse_symbols(params.get("symbols")),
            window=int(params.get("window", cls.window)),
            threshold=float(params.get("threshold", cls.threshold)),
            as_of=parse_date(params.get("as_of"), "as_of"),
            backfill_start=start,
            backfill_end=end,
        )

    @property
    def min_observations(self) -> int:
        """Pairs with fewer common sessions than 80% of the window are skipped."""
        return max(3, math.ceil(0.8 * self.window))

    def as_json(self) -> dict:
        def iso(d):
            return d.isoformat() if d else None

        return {
            "symbols": self.symbols,
            "window": self.window,
            "threshold": self.threshold,
            "as_of": iso(self.as_of),
            "backfill_start": iso(self.backfill_start),
            "backfill_end": iso(self.backfill_end),
        }


def load_returns(conn, symbols: list[str], first: date | None, last: date | None, window: int) -> pd.DataFrame:
    """Aligned daily returns from ``window`` sessions before ``first`` to ``last`` inclusive."""
    return returns_matrix(ledger.prices.closes(conn, symbols, since=history_start(first, window), until=last))


def matrices(conn, params: CorrelationParams) -> list[CorrelationMatrix]:
    """The matrices the params ask for: one per month-end of a backfill, else one at ``as_of``."""
    symbols = params.symbols or ledger.prices.symbols(conn)
    first = params.backfill_start or params.as_of
    last = params.backfill_end or params.as_of
    returns = load_returns(conn, symbols, first, last, params.window)
    log.info("returns of %d symbols over %d sessions (%s to %s)", len(symbols), len(returns), first or "the start",
             last or "the end")  # fmt: skip
    if returns.empty:
        return []
    if params.backfill_start:
        dates = month_ends(returns.index, params.backfill_start, params.backfill_end)
    else:
        dates = [pd.Timestamp(params.as_of, tz="UTC") if params.as_of else returns.index[-1]]
    return correlations_at(returns, dates, params.window)


def compute(conn, params: CorrelationParams, *, origin: str | None = None) -> int:
    """Open a run; store every significant pair (|r| >= threshold) per as-of; report skipped pairs."""
    run_id = ledger.runs.start_run(conn, pipeline=PIPELINE, provider="ledger", params=params.as_json(), origin=origin)
    rows, skipped = [], []
    computed = matrices(conn, params)
    for m in computed:
        for a, b, r, n in m.pairs(min_observations=params.min_observations):
            if r is None:
                skipped.append({"a": a, "b": b, "as_of": m.as_of.date().isoformat(), "observations": n})
            elif abs(r) >= params.threshold:
                rows.append((a, b, params.window, m.as_of.date(), r, n, run_id))
    as_ofs = [m.as_of.date() for m in computed]
    symbols = sorted({s for m in computed for s in m.symbols})
    dropped = ledger.correlations.replace_significant(conn, rows, window=params.window, as_ofs=as_ofs, symbols=symbols)
    ledger.runs.update_scope(conn, run_id, symbols=tuple(symbols), window=params.window, as_ofs=tuple(as_ofs))
    for s in skipped[:20]:
        log.warning(
            "run %d: skipped %s/%s on %s: only %d common sessions (need %d)",
            run_id,
            s["a"],
            s["b"],
            s["as_of"],
            s["observations"],
            params.min_observations,
        )
    stats = {"significant": len(rows), "dropped": dropped, "skipped_pairs": len(skipped), "skipped": skipped[:100]}
    ledger.runs.add_stats(conn, run_id, stats)
    log.info(
        "run %d: %d matrices, %d significant pairs, %d skipped, %d dropped",
        run_id,
        len(computed),
        len(rows),
        len(skipped),
        dropped,
    )
    return run_id


def _run_rows(conn, run_id: int, *, latest_only: bool) -> list[dict]:
    scope = ledger.runs.scope(conn, run_id)
    as_ofs = [scope.latest_as_of] if latest_only else list(scope.as_ofs)
    return ledger.correlations.correlations(conn, window=scope.window, as_ofs=as_ofs, symbols=list(scope.symbols))


def explain(conn, run_id: int, *, judge: Judge) -> dict:
    """The analyst's explanation of each significant pair at the run's latest as-of: why the two move together
    (or apart), asked once per pair, direction and window (cached), not again each session its coefficient moves."""
    rows = _run_rows(conn, run_id, latest_only=True)
    known = {c.symbol: c for c in ledger.companies.latest_companies(conn)}

    def company(symbol: str) -> Company:
        return known.get(symbol) or Company(symbol, symbol, "unknown", "unknown")

    judgements = judge.explain_correlations(
        [(company(r["a"]), company(r["b"]), 1 if r["coefficient"] >= 0 else -1, r["window"]) for r in rows]
    )
    ledger.correlations.set_explanations(
        conn, [(r, (j.value, j.analyst, j.model, j.prompt_version)) for r, j in zip(rows, judgements, strict=True)]
    )
    stats = {"analyst": judge.stats}
    ledger.runs.add_stats(conn, run_id, {"explanations": stats})
    return stats


def graph_correlations(conn, run_id: int, *, driver) -> int:
    """CORRELATED_WITH edges for the latest as-of of this window; edges of this window no longer strong go.

    "Latest" means latest: a run (e.g. a backfill of 2020) whose newest as-of is older than the one the
    edges stand on leaves them as they are.
    """
    scope = ledger.runs.scope(conn, run_id)
    held = graph.latest_correlation_as_of(driver, scope.window)
    if scope.latest_as_of is None or (held is not None and scope.latest_as_of < held):
        log.info(
            "run %d: edges stand on %s, newer than this run's %s: left as they are", run_id, held, scope.latest_as_of
        )
        return 0
    rows = _run_rows(conn, run_id, latest_only=True)
    graph.merge_correlations(driver, rows, symbols=list(scope.symbols), window=scope.window, run_id=run_id)
    log.info("run %d: %d CORRELATED_WITH edges (window %d)", run_id, len(rows), scope.window)
    return len(rows)


def cache_matrix(conn, run_id: int, *, redis_client, ttl_seconds: int) -> int:
    """Redis: the full latest matrix and each symbol's strongest correlations, recomputed from the ledger;
    only when this run's as-of is at least the cached one's ("latest" means latest)."""
    run = ledger.runs.get_run(conn, run_id)
    held = cache.read_json(redis_client, cache.CORRELATION_MATRIX)
    if run.scope.latest_as_of is None or (
        held and held["window"] == run.scope.window and date.fromisoformat(held["as_of"]) > run.scope.latest_as_of
    ):
        log.info("run %d: the cached matrix is newer than this run's as-of: left as it is", run_id)
        return 0
    items = matrix_items(conn, list(run.scope.symbols), window=run.scope.window, as_of=run.scope.latest_as_of)
    return cache.cache_json(redis_client, items, ttl_seconds=ttl_seconds)


def matrix_items(conn, symbols: list[str], *, window: int, as_of: date) -> dict[str, dict]:
    """``correlation:matrix:latest`` and each ``correlation:{SYMBOL}:top``, recomputed from the ledger's prices."""
    params = CorrelationParams(symbols=symbols, window=window, as_of=as_of)
    [m] = matrices(conn, params)
    coeffs = np.where(m.observations >= params.min_observations, m.coefficients, np.nan)
    matrix = {
        "as_of": m.as_of.date().isoformat(),
        "window": m.window,
        "symbols": m.symbols,
        "coefficients": [[None if not np.isfinite(v) else round(float(v), 6) for v in row] for row in coeffs],
    }
    items = {cache.CORRELATION_MATRIX: matrix}
    for i, symbol in enumerate(m.symbols):
        others = [
            (m.symbols[j], float(coeffs[i, j])) for j in range(len(m.symbols)) if j != i and np.isfinite(coeffs[i, j])
        ]
        top = sorted(others, key=lambda x: -abs(x[1]))[:TOP_PER_SYMBOL]
        items[cache.top_correlations_key(symbol)] = {
            "as_of": matrix["as_of"],
            "window": m.window,
            "top": [{"symbol": s, "coefficient": round(r, 6)} for s, r in top],
        }
    return items


def vectorise(conn, run_id: int, *, chroma_client) -> int:
    """The Chroma documents of the months of the run's as-of dates: one per pair and month, so a session
    adds documents only for pairs first strong this month (``index.correlation_records``)."""
    scope = ledger.runs.scope(conn, run_id)
    records = index.correlation_records(
        conn, window=scope.window, months=list(scope.as_ofs), symbols=list(scope.symbols)
    )
    written = records.upsert(vectors.correlations(chroma_client))
    ledger.runs.add_stats(conn, run_id, {"vectorised": written})
    log.info("run %d: %d correlation documents, %d embedded", run_id, len(records), written)
    return written


def announce(conn, run_id: int, *, redis_client) -> int:
    """Last: one ``correlation_updates`` message for the run, then the run is marked succeeded."""
    run = ledger.runs.get_run(conn, run_id)
    message = {
        "run_id": run_id,
        "window": run.scope.window,
        "as_of": run.scope.latest_as_of.isoformat() if run.scope.latest_as_of else None,
        "significant": run.stats.get("significant", 0),
    }
    sent, received = cache.publish(redis_client, cache.CORRELATION_UPDATES, [message])
    ledger.runs.finish(conn, run_id, "succeeded", {"announced": sent, "received": received})
    return sent


STEPS = (
    Step(explain, "postgres"),
    Step(graph_correlations, "neo4j"),
    Step(cache_matrix, "redis", {"ttl_seconds": "correlation_ttl"}),
    Step(vectorise, "chroma"),
    Step(announce, "pubsub"),
)
"""After ``compute`` opens the run, in this order."""
