"""What the page and the API show beside the answers: a symbol's prices, the correlation matrix, a
company's graph neighbourhood, what a DAG run wrote, how far each projection is from the ledger, and the
live panel's snapshot and alert charts. Every read that can be dated takes the as-of date and reads nothing
after it."""

from __future__ import annotations

from datetime import UTC, date, timedelta

import numpy as np

from axiom import replay, status
from axiom.pipelines.correlations import CorrelationParams, matrices
from axiom.reads import session_on_or_before, symbol_of
from axiom.stores import cache, graph, ledger


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


SPREAD_SESSIONS = 60  # an alert's chart: its pair's spread over the last 60 sessions (z uses the formation window)


def live_snapshot(conn, redis_client) -> dict:
    """What the live panel shows now: the ledger's newest session; each symbol's latest price from Redis
    (``price:{SYMBOL}:latest``; the ledger's newest close where the key is missing or expired, and it says
    which) with its change against the ledger's close of the session before; the replay's state and clock."""
    span = ledger.prices.session_span(conn)
    symbols = ledger.prices.symbols(conn)
    cached = cache.read_latest_prices(redis_client, symbols)
    stored = {b["symbol"]: b for b in ledger.prices.latest_bars(conn, [s for s in symbols if cached.get(s) is None])}
    latest = {}
    for symbol in symbols:
        if (c := cached.get(symbol)) is not None:
            latest[symbol] = (float(c["close"]), date.fromisoformat(c.get("session") or c["ts"][:10]), "redis")
        elif symbol in stored:
            bar = stored[symbol]
            latest[symbol] = (float(bar["close"]), bar["ts"].astimezone(UTC).date(), "ledger")
    before = ledger.prices.closes_before(conn, {s: v[1] for s, v in latest.items()})
    prices = []
    for symbol, (close, session, source) in latest.items():
        previous = before.get(symbol)
        prices.append({
            "symbol": symbol, "close": round(close, 6), "session": session.isoformat(), "source": source,
            "previous_session": previous and previous[0].isoformat(),
            "previous_close": previous and round(previous[1], 6),
            "change": previous and round(close / previous[1] - 1, 6),
        })  # fmt: skip
    return {"session": span and span[1].isoformat(), "prices": prices, "replay": replay.state(conn)}


def live_version(conn) -> str:
    """Changes whenever what ``live_snapshot`` shows may have: a new session in the ledger, a hop of the live
    path stamped (the latest prices cached is one), the replay's state or clock moved."""
    span = ledger.prices.session_span(conn)
    return f"{span[1] if span else None}|{ledger.live.moved(conn)}"


def pair_spread(conn, a: str, b: str, session, *, beta: float, sessions: int = SPREAD_SESSIONS) -> dict:
    """The pair's log-price spread ln(a) - beta ln(b) over its last ``sessions`` common sessions up to ``session``
    (nothing after it): the chart beside an alert. ``beta`` is the alert's hedge ratio."""
    day = session if isinstance(session, date) else date.fromisoformat(str(session))
    closes = ledger.prices.close_table(conn, [a, b], since=day - timedelta(days=2 * sessions + 30), until=day)
    both = closes.reindex(columns=[a, b]).dropna().tail(sessions)
    spread = np.log(both[a].to_numpy(dtype=float)) - beta * np.log(both[b].to_numpy(dtype=float))
    return {
        "a": a,
        "b": b,
        "beta": beta,
        "dates": [t.date().isoformat() for t in both.index],
        "values": [round(float(v), 6) for v in spread],
    }
