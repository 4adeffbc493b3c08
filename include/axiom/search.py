"""Search across everything the index holds: text, similar companies, similar price patterns, similar
sector profiles. Every Chroma query on an answer's path lives here.

Text distances are Chroma's cosine distances (0 = same direction); price-pattern distances are squared
Euclidean distances between pattern vectors (``axiom.analytics.patterns``). Date filters use each record's
``epoch_day`` (days since 1970-01-01) so one filter works for events, correlations and patterns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from axiom.analytics.patterns import pattern_vector
from axiom.calendar import epoch_day
from axiom.models import EVENT_TYPES
from axiom.stores import ledger, vectors
from axiom.validation import parse_dates, parse_symbols

TEXT_KINDS = {
    vectors.COMPANIES: vectors.companies,
    vectors.MARKET_EVENTS: vectors.market_events,
    vectors.CORRELATIONS: vectors.correlations,
}


@dataclass(frozen=True)
class Hit:
    kind: str
    id: str
    distance: float
    document: str | None
    metadata: dict


def where_clause(*, event_type: str | None = None, symbol: str | None = None, since=None, until=None) -> dict | None:
    """A Chroma ``where`` filter from the common options (all must hold); dates as ``date`` or ``YYYY-MM-DD``."""
    since, until = parse_dates(since, until, ("since", "until"))
    if event_type is not None and event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type!r}; choose from {', '.join(EVENT_TYPES)}")
    terms: list[dict] = []
    if event_type:
        terms.append({"event_type": event_type})
    if symbol:
        [one] = parse_symbols([symbol])
        terms.append({"symbol": one})
    if since:
        terms.append({"epoch_day": {"$gte": epoch_day(since)}})
    if until:
        terms.append({"epoch_day": {"$lte": epoch_day(until)}})
    if not terms:
        return None
    return terms[0] if len(terms) == 1 else {"$and": terms}


def _hits(kind: str, result: dict) -> list[Hit]:
    return [
        Hit(kind, i, float(d), doc, meta)
        for i, d, doc, meta in zip(
            result["ids"][0], result["distances"][0], result["documents"][0], result["metadatas"][0], strict=True
        )
    ]


def search(
    chroma_client, text: str, *, kinds: list[str] | None = None, where: dict | None = None, k: int = 10
) -> list[Hit]:
    """The ``k`` nearest documents to ``text`` across the chosen kinds, nearest first."""
    if not text or not text.strip():
        raise ValueError("the search text is empty")
    unknown = set(kinds or []) - set(TEXT_KINDS)
    if unknown:
        raise ValueError(f"unknown kinds {sorted(unknown)}; choose from {sorted(TEXT_KINDS)}")
    hits: list[Hit] = []
    for kind in kinds or list(TEXT_KINDS):
        collection = TEXT_KINDS[kind](chroma_client)
        if collection.count() == 0:
            continue
        result = collection.query(
            query_texts=[text],
            n_results=min(k, collection.count()),
            where=where,
            include=["documents", "metadatas", "distances"],
        )
        hits.extend(_hits(kind, result))
    return sorted(hits, key=lambda h: h.distance)[:k]


def similar_companies(chroma_client, symbol: str, k: int = 5) -> list[Hit]:
    """Companies whose business descriptions are nearest to ``symbol``'s."""
    collection = vectors.companies(chroma_client)
    own = collection.get(ids=[f"company:{symbol}"], include=["embeddings"])
    if not own["ids"]:
        raise LookupError(f"{symbol} has no company description in the index; run the company_graph pipeline")
    result = collection.query(
        query_embeddings=own["embeddings"],
        n_results=min(k + 1, collection.count()),
        where={"symbol": {"$ne": symbol}},
        include=["documents", "metadatas", "distances"],
    )
    return _hits(vectors.COMPANIES, result)[:k]


def similar_sector_profiles(chroma_client, query: np.ndarray, cutoff: date, *, k: int) -> list[dict]:
    """The ``k`` month-end sector-rotation profiles nearest ``query`` among those dated on or before ``cutoff``."""
    collection = vectors.sector_profiles(chroma_client)
    if collection.count() == 0:
        return []
    result = collection.query(
        query_embeddings=[query.tolist()],
        n_results=min(k, collection.count()),
        where={"epoch_day": {"$lte": epoch_day(cutoff)}},
        include=["metadatas", "distances"],
    )
    return [{**m, "distance": float(d)} for m, d in zip(result["metadatas"][0], result["distances"][0], strict=True)]


@dataclass(frozen=True)
class PatternMatch:
    """A past window like the query's: what it looked like (return, volatility, drawdown) and what followed."""

    symbol: str
    window_end: date
    distance: float
    horizon_end: date
    forward_return: float
    window_return: float
    window_volatility: float
    window_drawdown: float


def similar_price_patterns(
    conn,
    chroma_client,
    symbol: str,
    as_of: date,
    *,
    k: int = 5,
    horizon: int = 20,
    window: int = 30,
    closes: pd.Series | None = None,
) -> list[PatternMatch]:
    """Past windows most like ``symbol``'s last ``window`` returns to ``as_of``, with what followed.

    Only windows whose ``horizon`` sessions after their end had also ended on or before
    ``as_of`` are eligible, so nothing here was unknown on that date (no look-ahead). ``closes``: the
    symbol's closes (indexed by session) up to ``as_of`` when the caller has read them already.
    """
    if closes is None or len(closes) <= max(window, horizon):
        history = ledger.prices.closes(conn, [symbol], since=as_of - timedelta(days=3 * window + 30), until=as_of)
        closes = history.set_index("ts")["close"]
    closes = closes[closes.index <= pd.Timestamp(as_of, tz="UTC")]
    if len(closes) <= window:
        raise LookupError(f"{symbol} has fewer than {window + 1} sessions in the ledger up to {as_of}")
    query = pattern_vector(closes.to_numpy(dtype=float), window)
    if query is None:
        raise ValueError(f"{symbol}'s last {window} sessions to {as_of} are flat: no shape to match")
    if len(closes) <= horizon:
        return []
    cutoff = closes.index[-horizon - 1].date()  # a window ending here has its horizon end on as_of at the latest
    collection = vectors.price_patterns(chroma_client)
    result = collection.query(
        query_embeddings=[query.tolist()],
        n_results=2 * k,
        where={"$and": [{"window": window}, {"epoch_day": {"$lte": epoch_day(cutoff)}}]},
        include=["metadatas", "distances"],
    )
    matches = list(zip(result["metadatas"][0], result["distances"][0], strict=True))
    return _forward_returns(conn, matches, horizon, as_of)[:k]


def _forward_returns(conn, matches, horizon: int, as_of: date) -> list[PatternMatch]:
    """Each match's close at its window end and ``horizon`` sessions later."""
    starts = [(m["symbol"], date.fromisoformat(m["as_of"])) for m, _ in matches]
    out = []
    for i, start_close, horizon_end, horizon_close in ledger.prices.forward_closes(conn, starts, horizon):
        meta, distance = matches[i]
        if horizon_end <= as_of:  # calendars can differ by symbol: check each match, never trust the filter alone
            out.append(
                PatternMatch(
                    meta["symbol"],
                    starts[i][1],
                    float(distance),
                    horizon_end,
                    horizon_close / start_close - 1,
                    meta["window_return"],
                    meta["window_volatility"],
                    meta["window_drawdown"],
                )
            )
    return out
