"""Workflow 1, "is X a buy?": price, trend, competitive position, recent events, correlated peers and
similar past scenarios, read point in time from all four stores, judged by the analyst.

* Redis: the company's reference facts (name, sector, industry: classifications, nothing dated) and
  the price when the as-of is the cached latest bar's session (the ledger's close otherwise).
* PostgreSQL: the symbol's and its competitors' closes up to the as-of session: trend (close vs
  5/20/60-session averages, momentum, 20-session volatility, drawdown from the 60-session high) and
  peers' 20-session returns; and the symbol's strongest pairs in the correlations pipeline's newest
  matrix dated on or before the as-of (its ledger time series), so the answer reads a bounded number
  of rows however many symbols the ledger holds.
* Neo4j: competitors (``COMPETES_WITH``; company classifications are reference data, and a peer's
  market cap is used only from a snapshot dated on or before the as-of), and the events within the
  7 sessions up to the as-of (``AFFECTED_BY``, and sector-level ``AFFECTS`` scaled by sensitivity).
* Chroma: the past windows most like the symbol's last 30 sessions whose 20-session horizon had
  ended by the as-of date, with their realised forward returns (median, spread, count, hit rate).
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from axiom import quotes, search
from axiom.analytics.patterns import window_summary
from axiom.analytics.trend import trend_facts, window_return
from axiom.insights.answer import Recorder
from axiom.insights.common import MIN_HISTORY, Request, Stores, session_on_or_before, symbol_of, wide
from axiom.pipelines.correlations import CorrelationParams
from axiom.stores import cache, graph, ledger, vectors

QUESTION = "buy"
EVENT_SESSIONS = 7
HORIZON = 20
ANALOGUES = 10
CORRELATION_WINDOW = CorrelationParams.window  # the correlations pipeline's default window
CORRELATED = 5


def resolve(conn, subject, as_of, params: dict) -> Request:
    symbol = symbol_of(subject)
    return Request(symbol, session_on_or_before(conn, as_of, symbol), {"horizon": HORIZON})


def gather(stores: Stores, rec: Recorder, request: Request) -> dict:
    symbol, as_of = request.subject, request.as_of
    conn = stores.conn

    reference = rec.read(
        "redis",
        "company reference (name, sector, industry)",
        f"GET {cache.company_metadata_key(symbol)}",
        {"symbol": symbol},
        lambda: cache.read_json(stores.redis_client, cache.company_metadata_key(symbol)) or {},
        lambda m: {k: m.get(k) for k in ("name", "sector", "industry")},  # classifications only: nothing dated
    )
    newest = as_of == ledger.prices.session_span(conn, symbol)[1]
    quote = rec.read(
        "redis" if newest else "postgres",
        "price",
        f"GET {cache.latest_price_key(symbol)}" if newest else ledger.prices.CLOSES_SQL,
        {"symbol": symbol, "as_of": as_of},
        lambda: quotes.latest_price(conn, stores.redis_client, symbol, as_of=as_of),
        lambda q: {"close": q.close, "session": q.session, "source": q.source, "note": q.note},
    )
    if quote.source == "ledger":
        rec.note(f"price from the {quote.note}")

    peers = rec.read(
        "neo4j",
        "competitors",
        graph.COMPETITORS,
        {"symbol": symbol},
        lambda: graph.read(stores.driver, graph.COMPETITORS, symbol=symbol),
    )
    since = as_of - timedelta(days=2 * MIN_HISTORY + 30)
    read = [symbol, *sorted({p["symbol"] for p in peers} - {symbol})]
    closes = rec.read(
        "postgres",
        "closes up to the as-of session",
        ledger.prices.CLOSES_SQL,
        {"symbols": read, "since": since, "until": as_of},
        lambda: wide(ledger.prices.closes(conn, read, since=since, until=as_of)),
        lambda w: {
            "sessions": len(w),
            "symbols": w.shape[1],
            "last": w.index[-1].date(),
            "trend": trend_facts(w[symbol].dropna().to_numpy(dtype=float)),
        },
    )
    own = closes[symbol].dropna().to_numpy(dtype=float)
    trend = trend_facts(own)

    peer_rows = []
    for p in peers:
        series = closes[p["symbol"]].dropna().to_numpy(dtype=float) if p["symbol"] in closes else np.array([])
        dated = p["snapshot"] is not None and date.fromisoformat(p["snapshot"]) <= as_of
        peer_rows.append(
            {
                "symbol": p["symbol"],
                "intensity": p["intensity"],
                "return_20": window_return(series, 20),
                "market_cap_usd": p["market_cap_usd"] if dated else None,
            }
        )
    if peers and not any(r["market_cap_usd"] for r in peer_rows):
        rec.note("competitors' market caps are from a snapshot dated after the as-of date, so no size rank is used")
    peer_returns = [r["return_20"] for r in peer_rows if r["return_20"] is not None]
    peer_lead = trend["return_20"] - float(np.median(peer_returns)) if peer_returns else None

    window_start = closes.index[-EVENT_SESSIONS - 1].date() if len(closes) > EVENT_SESSIONS else closes.index[0].date()
    events = rec.read(
        "neo4j",
        f"events in the {EVENT_SESSIONS} sessions to the as-of",
        graph.EVENTS_BETWEEN,
        {"symbol": symbol, "since": window_start, "until": as_of},
        lambda: graph.read(
            stores.driver, graph.EVENTS_BETWEEN, symbol=symbol, since=window_start.isoformat(), until=as_of.isoformat()
        ),
    )

    matrix_date, correlated = rec.read(
        "postgres",
        f"strongest correlations (window {CORRELATION_WINDOW}) on or before the as-of",
        ledger.correlations.PAIRS_OF_SQL,
        {"symbol": symbol, "window": CORRELATION_WINDOW, "as_of": as_of, "limit": CORRELATED},
        lambda: ledger.correlations.pairs_of(conn, symbol, window=CORRELATION_WINDOW, as_of=as_of, limit=CORRELATED),
        lambda found: {"matrix": found[0], "pairs": found[1]},
    )
    if matrix_date is None:
        rec.note(f"no correlation matrix on or before {as_of}: run the correlations pipeline for correlated peers")
    elif matrix_date < as_of:
        rec.note(f"correlated peers from the correlation matrix of {matrix_date}, the newest on or before {as_of}")

    matches = rec.read(
        "chroma",
        f"similar past {HORIZON}-session scenarios",
        f"{vectors.PRICE_PATTERNS}.query(pattern of {symbol} to as_of, where epoch_day <= horizon cut-off)",
        {"symbol": symbol, "as_of": as_of, "k": ANALOGUES, "horizon": HORIZON},
        lambda: search.similar_price_patterns(conn, stores.chroma_client, symbol, as_of, k=ANALOGUES, horizon=HORIZON),
        lambda ms: [
            {
                "symbol": m.symbol,
                "window_end": m.window_end,
                "window_return": m.window_return,
                "window_volatility": m.window_volatility,
                "forward_return": m.forward_return,
                "distance": m.distance,
            }
            for m in ms
        ],
    )
    forward = np.array([m.forward_return for m in matches])
    analogues = (
        {
            "count": len(forward),
            "median": float(np.median(forward)),
            "p25": float(np.percentile(forward, 25)),
            "p75": float(np.percentile(forward, 75)),
            "hit_rate": float((forward > 0).mean()),
            "horizon": HORIZON,
        }
        if len(forward)
        else {"count": 0, "horizon": HORIZON}
    )
    return {
        "symbol": symbol,
        "name": reference.get("name"),
        "sector": reference.get("sector"),
        "as_of": as_of.isoformat(),
        "price": {"close": quote.close, "session": quote.session.isoformat(), "source": quote.source},
        "trend": trend,
        "window": window_summary(own[-31:]),
        "peers": peer_rows,
        "peer_lead_20": peer_lead,
        "events": events,
        "correlated": correlated,
        "analogues": analogues,
        "candidates": [],
    }
