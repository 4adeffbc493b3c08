"""What the page and the API show beside the answers: a symbol's prices, the correlation matrix, a
company's graph neighbourhood, what a DAG run wrote, and how far each projection is from the ledger.
Every read that can be dated takes the as-of date and reads nothing after it."""

from __future__ import annotations

from datetime import timedelta

import numpy as np

from axiom import status
from axiom.pipelines.correlations import CorrelationParams, matrices
from axiom.reads import session_on_or_before, symbol_of
from axiom.stores import graph, ledger


def price_history(conn, symbol, as_of=None, *, sessions: int = 250) -> dict:
    """The last ``sessions`` closes of ``symbol`` up to the as-of session."""
    symbol = symbol_of(symbol)
    day = session_on_or_before(conn, as_of, symbol)
    closes = ledger.prices.closes(conn, [symbol], since=day - timedelta(days=2 * sessions + 14), until=day)
    closes = closes.tail(sessions)
    return {
        "symbol": symbol,
        "as_of": day.isoformat(),
        "dates": [t.date().isoformat() for t in closes["ts"]],
        "closes": [round(float(c), 6) for c in closes["close"]],
    }


def correlation_matrix(conn, as_of=None, *, window: int = 30) -> dict:
    """Pearson correlations of every symbol's daily returns over the ``window`` sessions to the as-of."""
    day = session_on_or_before(conn, as_of)
    [m] = matrices(conn, CorrelationParams(window=window, as_of=day))
    params = CorrelationParams(window=window)
    coeffs = np.where(m.observations >= params.min_observations, m.coefficients, np.nan)
    return {
        "as_of": m.as_of.date().isoformat(),
        "window": window,
        "symbols": m.symbols,
        "coefficients": [[None if not np.isfinite(v) else round(float(v), 4) for v in row] for row in coeffs],
    }


def neighbourhood(conn, driver, symbol, as_of=None) -> dict:
    """A company's graph neighbourhood as nodes and edges, as of a session."""
    symbol = symbol_of(symbol)
    return graph.neighbourhood(driver, symbol, session_on_or_before(conn, as_of, symbol))


def run_writes(conn, dag_id: str, run_id: str) -> dict:
    """What the ingestion run an Airflow DAG run started wrote, per store (from its scope and counters)."""
    run = ledger.runs.run_of(conn, f"{dag_id}/{run_id}")
    if run is None:
        raise LookupError(f"DAG run {dag_id}/{run_id} started no ingestion run (it is not an Axiom pipeline run)")
    return {
        "run_id": run.run_id,
        "pipeline": run.pipeline,
        "provider": run.provider,
        "status": run.status,
        "params": run.params,
        "scope": run.scope.to_json(),
        "stats": run.stats,
    }


def store_status(pg, redis_client, driver, chroma_client, *, window: int) -> dict:
    """Counts per store, and per Chroma collection how far it is from what the ledger implies."""
    counts = status.counts(pg, redis_client, driver, chroma_client, window=window)
    counts["drift"] = {name: c["chroma"] - c["ledger"] for name, c in counts["chroma"].items()}
    return counts
