"""Pipeline 4, correlations: matrices from ledger returns -> significant pairs -> explanations ->
Neo4j CORRELATED_WITH -> Redis -> Chroma -> announce.

See ``axiom.analytics.correlation`` for the return (simple), window and estimator (Pearson,
pairwise-complete). A backfill computes one matrix per month-end from a single read of history.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from axiom import index
from axiom.analysts.base import Company
from axiom.analysts.judge import Judge
from axiom.analytics.correlation import CorrelationMatrix, correlation_at, month_ends, returns_matrix
from axiom.stores import cache, graph, ledger, vectors

log = logging.getLogger(__name__)

PIPELINE = "correlations"
TOP_PER_SYMBOL = 5


@dataclass(frozen=True)
class CorrelationParams:
    """``as_of`` None means the latest bar; ``backfill_start``/``backfill_end`` ask for every month-end between."""

    symbols: list[str] | None = None
    window: int = 30
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


def ledger_symbols(conn) -> list[str]:
    return [r[0] for r in conn.execute("SELECT DISTINCT symbol FROM price_bar WHERE interval = '1d' ORDER BY 1")]


def load_returns(conn, symbols: list[str], first: date | None, last: date | None, window: int) -> pd.DataFrame:
    """Aligned daily returns reaching ``window`` sessions (with room for holidays) before ``first``."""
    history_from = first - timedelta(days=2 * window + 14) if first else None
    closes = ledger.closes(conn, symbols, "1d", history_from, last + timedelta(days=1) if last else None)
    return returns_matrix(closes)


def matrices(conn, params: CorrelationParams) -> list[CorrelationMatrix]:
    """The matrices the params ask for: one per month-end of a backfill, else one at ``as_of``."""
    symbols = params.symbols or ledger_symbols(conn)
    first = params.backfill_start or params.as_of
    last = params.backfill_end or params.as_of
    returns = load_returns(conn, symbols, first, last, params.window)
    if returns.empty:
        return []
    if params.backfill_start:
        dates = month_ends(returns.index, params.backfill_start, params.backfill_end)
    else:
        dates = [pd.Timestamp(params.as_of, tz="UTC") if params.as_of else returns.index[-1]]
    return [correlation_at(returns, d, params.window) for d in dates]


def compute(conn, params: CorrelationParams) -> int:
    """Open a run; store every significant pair (|r| >= threshold) per as-of; report skipped pairs."""
    run_id = ledger.start_run(conn, pipeline=PIPELINE, provider="ledger", params=params.as_json())
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
    with ledger.transaction(conn), conn.cursor() as cur:
        # pairs of these symbols no longer significant on these dates are dropped from the series
        cur.execute(
            "CREATE TEMP TABLE correlation_now (a text, b text, as_of date, PRIMARY KEY (a, b, as_of)) ON COMMIT DROP"
        )
        cur.executemany(
            "INSERT INTO correlation_now (a, b, as_of) VALUES (%s, %s, %s)", [(r[0], r[1], r[3]) for r in rows]
        )
        cur.execute(
            "DELETE FROM correlation c WHERE c.window_sessions = %s AND c.as_of = ANY(%s) AND c.a = ANY(%s)"
            " AND c.b = ANY(%s) AND NOT EXISTS (SELECT 1 FROM correlation_now n"
            " WHERE n.a = c.a AND n.b = c.b AND n.as_of = c.as_of)",
            (params.window, as_ofs, symbols, symbols),
        )
        dropped = cur.rowcount
        cur.executemany(
            "INSERT INTO correlation (a, b, window_sessions, as_of, coefficient, observations, run_id)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (a, b, window_sessions, as_of) DO UPDATE SET coefficient = EXCLUDED.coefficient,"
            " observations = EXCLUDED.observations, run_id = EXCLUDED.run_id"
            " WHERE (correlation.coefficient, correlation.observations)"
            " IS DISTINCT FROM (EXCLUDED.coefficient, EXCLUDED.observations)",
            rows,
        )
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
    stats = {
        "as_ofs": [d.isoformat() for d in as_ofs],
        "latest_as_of": max(as_ofs).isoformat() if as_ofs else None,
        "symbols": symbols,
        "significant": len(rows),
        "dropped": dropped,
        "skipped_pairs": len(skipped),
        "skipped": skipped[:100],
    }
    ledger.update_run(conn, run_id, stats=stats)
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
    run = ledger.get_run(conn, run_id)
    as_ofs = [run["stats"]["latest_as_of"]] if latest_only else run["stats"].get("as_ofs", [])
    return ledger.correlations(conn, window=run["params"]["window"], as_ofs=as_ofs, symbols=run["stats"]["symbols"])


def explain(conn, judge: Judge, run_id: int) -> dict:
    """The analyst's explanation of each significant pair at the run's latest as-of (cached)."""
    rows = _run_rows(conn, run_id, latest_only=True)
    known = {c.symbol: c for c in ledger.latest_companies(conn)}

    def company(symbol: str) -> Company:
        return known.get(symbol) or Company(symbol, symbol, "unknown", "unknown")

    judgements = judge.explain_correlations(
        [
            (
                company(r["a"]),
                company(r["b"]),
                r["coefficient"],
                {"window": r["window"], "as_of": r["as_of"].isoformat(), "observations": r["observations"]},
            )
            for r in rows
        ]
    )
    with ledger.transaction(conn), conn.cursor() as cur:
        cur.executemany(
            "UPDATE correlation SET explanation = %s, analyst = %s, model = %s, prompt_version = %s"
            " WHERE a = %s AND b = %s AND window_sessions = %s AND as_of = %s"
            " AND (explanation, analyst, model, prompt_version) IS DISTINCT FROM (%s, %s, %s, %s)",
            [
                (
                    j.value,
                    j.analyst,
                    j.model,
                    j.prompt_version,
                    r["a"],
                    r["b"],
                    r["window"],
                    r["as_of"],
                    j.value,
                    j.analyst,
                    j.model,
                    j.prompt_version,
                )
                for r, j in zip(rows, judgements, strict=True)
            ],
        )
    stats = {f"analyst_{k}": v for k, v in judge.stats.items()}
    ledger.update_run(conn, run_id, stats={"explanations": stats})
    return stats


def graph_correlations(conn, driver, run_id: int) -> int:
    """CORRELATED_WITH edges for the latest as-of of this window; edges of this window no longer strong go."""
    rows = _run_rows(conn, run_id, latest_only=True)
    symbols = ledger.get_run(conn, run_id)["stats"].get("symbols", [])
    window = ledger.get_run(conn, run_id)["params"]["window"]
    graph.merge_correlations(driver, [{**r, "as_of": r["as_of"]} for r in rows], symbols=symbols, window=window)
    log.info("run %d: %d CORRELATED_WITH edges (window %d)", run_id, len(rows), window)
    return len(rows)


def cache_matrix(conn, redis_client, run_id: int, *, ttl_seconds: int) -> int:
    """Redis: the full latest matrix and each symbol's strongest correlations, recomputed from the ledger."""
    run = ledger.get_run(conn, run_id)
    params = CorrelationParams(
        symbols=run["stats"]["symbols"],
        window=run["params"]["window"],
        threshold=run["params"]["threshold"],
        as_of=date.fromisoformat(run["stats"]["latest_as_of"]),
    )
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
    return cache.cache_json(redis_client, items, ttl_seconds=ttl_seconds)


def vectorise(conn, chroma_client, run_id: int) -> int:
    """One Chroma document per stored pair and as-of of the run."""
    run = ledger.get_run(conn, run_id)
    records = index.correlation_records(
        conn, window=run["params"]["window"], as_ofs=run["stats"].get("as_ofs", []), symbols=run["stats"]["symbols"]
    )
    written = records.upsert(vectors.correlations(chroma_client))
    log.info("run %d: %d correlation documents, %d embedded", run_id, len(records), written)
    return written


def announce(conn, redis_client, run_id: int) -> int:
    """Last: one ``correlation_updates`` message for the run, then the run is marked succeeded."""
    run = ledger.get_run(conn, run_id)
    sent = cache.publish(
        redis_client,
        cache.CORRELATION_UPDATES,
        [
            {
                "run_id": run_id,
                "window": run["params"]["window"],
                "as_of": run["stats"]["latest_as_of"],
                "significant": run["stats"]["significant"],
            }
        ],
    )
    ledger.update_run(conn, run_id, stats={"announced": sent}, status="succeeded")
    return sent
