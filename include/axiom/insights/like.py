"""Use Case 1, "find stocks like X": description similarity (Chroma), competitors and sector (Neo4j),
return correlation up to the as-of session (PostgreSQL) and each candidate's price (Redis, else the
ledger), ranked by the analyst with one reason per candidate. Descriptions and classifications are
reference data (one snapshot per company); prices and correlations are point in time.
"""

from __future__ import annotations

import numpy as np

from axiom import quotes, search
from axiom.analytics.trend import return_correlations
from axiom.insights.answer import Recorder
from axiom.insights.common import SYMBOL_SUBJECT, Request, Stores, read_closes
from axiom.reads import MIN_HISTORY, session_of, symbol_of
from axiom.stores import cache, graph, vectors

QUESTION = "like"
SUBJECT = SYMBOL_SUBJECT
NEIGHBOURS = 8
CORRELATION_SESSIONS = MIN_HISTORY - 1  # returns: the closes the as-of session stands on


def resolve(conn, subject, as_of, params: dict) -> Request:
    symbol = symbol_of(subject)
    session = session_of(conn, as_of, symbol)
    return Request(symbol, session.as_of, newest=session.newest, since=session.first)


def gather(stores: Stores, rec: Recorder, request: Request) -> dict:
    symbol, as_of = request.subject, request.as_of
    nearest = rec.begin(  # the three reads need only the symbol: begun at once
        "chroma",
        "nearest business descriptions",
        f"{vectors.COMPANIES}.query(embedding of company:{symbol}, where symbol != {symbol})",
        {"symbol": symbol, "k": NEIGHBOURS},
        lambda: search.similar_companies(stores.chroma_client, symbol, NEIGHBOURS),
        lambda hits: [{"symbol": h.metadata["symbol"], "distance": h.distance} for h in hits],
    )
    competing = rec.begin(
        "neo4j", "competitors", graph.COMPETITORS, {"symbol": symbol},
        lambda: graph.read(stores.driver, graph.COMPETITORS, symbol=symbol),
    )  # fmt: skip
    classified = rec.begin(
        "neo4j", "sector and its companies", graph.SECTOR_OF, {"symbol": symbol},
        lambda: graph.read(stores.driver, graph.SECTOR_OF, symbol=symbol),
    )  # fmt: skip
    described, competitors, sector = nearest.result(), competing.result(), classified.result()
    if not described:
        rec.gap(f"Chroma returned no company description near {symbol}'s")
    same_sector = set(sector[0]["peers"]) if sector else set()
    distance = {h.metadata["symbol"]: h.distance for h in described}
    competition = {c["symbol"]: c["intensity"] for c in competitors}
    candidates = sorted(set(distance) | set(competition) | same_sector)

    since = request.since  # the symbol's last MIN_HISTORY sessions: the CORRELATION_SESSIONS returns and no more
    closes = read_closes(
        rec, stores.conn, f"closes for {CORRELATION_SESSIONS}-session correlations", [symbol, *candidates], since, as_of
    )
    listed = [c for c in candidates if c in closes]
    coefficient = dict(
        zip(listed, return_correlations(closes[symbol].to_numpy(dtype=float), closes[listed].to_numpy(dtype=float),
                                        CORRELATION_SESSIONS), strict=True)
    )  # fmt: skip
    if request.newest == as_of:  # Redis holds the newest session's closes, nothing older: one MGET
        prices = rec.read(
            "redis",
            "candidates' prices",
            f"MGET {cache.latest_price_key('{SYMBOL}')} of every candidate (else its close already read)",
            {"symbols": candidates, "as_of": as_of},
            lambda: quotes.quotes(stores.redis_client, candidates, as_of=as_of, newest=request.newest, closes=closes),
            lambda q: {c: None if v is None else {"close": v.close, "source": v.source} for c, v in q.items()},
        )
    else:
        prices = quotes.quotes(None, candidates, as_of=as_of, newest=request.newest, closes=closes)
    facts = []
    for c in candidates:
        corr = coefficient.get(c, np.nan)
        facts.append(
            {
                "symbol": c,
                "description_distance": round(distance.get(c, 1.0), 4),
                "competition": competition.get(c, 0.0),
                "same_sector": c in same_sector,
                "coefficient": None if np.isnan(corr) else round(float(corr), 4),
                "price": None if prices[c] is None else prices[c].close,
            }
        )
    if set(candidates) - set(distance):
        rec.note("candidates outside the nearest descriptions are scored with description distance 1.0")
    return {"symbol": symbol, "as_of": as_of.isoformat(), "candidates": candidates, "candidates_facts": facts}
