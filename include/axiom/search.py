"""Search across everything the index holds: text, similar companies, similar price patterns, similar
sector profiles. Every Chroma query on an answer's path lives here.

Text distances are Chroma's cosine distances (0 = same direction); price-pattern distances are squared
Euclidean distances between pattern vectors (``axiom.analytics.patterns``). Date filters use each record's
``epoch_day`` (days since 1970-01-01) so one filter works for events, correlations and patterns.

Filtered reads go through ``nearest``: a Chroma ``where`` makes Chroma read every matching id from its SQLite
metadata before the vector search (an unbounded scan, and numeric keys are read across every collection), so
``nearest`` asks the index for the nearest records without a filter and applies the filter here, falling
back to Chroma's filter only when too few of them match (see ``nearest`` for what that guarantees).
"""

from __future__ import annotations

import functools
import math
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
from chromadb.errors import NotFoundError

from axiom.analytics import patterns
from axiom.analytics.patterns import pattern_vector
from axiom.calendar import epoch_day
from axiom.models import EVENT_TYPES
from axiom.stores import ledger, vectors
from axiom.validation import parse_dates, parse_symbols

FIRST_FETCH = 2  # the first unfiltered query asks for this many times the records wanted, metadata included
WIDEST = 4096  # the most records an unfiltered query asks for (ids and distances only) before Chroma's filter answers
HYDRATED = 2048  # the most records whose metadata one read asks for
TEXT_KINDS = (vectors.COMPANIES, vectors.MARKET_EVENTS, vectors.CORRELATIONS)


_OPENED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # client -> {name: collection}


def _read(chroma_client, name: str, read: Callable, missing: Callable[[], Any] = list):
    """``read(collection)`` on the collection ``name`` as it is, opened once per client: opening costs one or
    two round trips, as much as the query. A read never creates or drops a collection: one that does not exist
    gives ``missing()``; a handle whose collection has been deleted since (made anew) is opened again."""
    opened = _OPENED.setdefault(chroma_client, {})
    collection = opened.get(name)
    if collection is not None:
        try:
            return read(collection)
        except NotFoundError:
            opened.pop(name)
    collection = vectors.existing(chroma_client, name)
    if collection is None:
        return missing()
    opened[name] = collection
    return read(collection)


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
    documents = result["documents"][0] if result.get("documents") is not None else [None] * len(result["ids"][0])
    return [
        Hit(kind, i, float(d), doc, meta or {})
        for i, d, doc, meta in zip(
            result["ids"][0], result["distances"][0], documents, result["metadatas"][0], strict=True
        )
    ]


def _same_kind(a, b) -> bool:
    """Whether Chroma compares ``a`` and ``b`` as one type (ints and floats are numbers; bools are not)."""
    number = (int, float)
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool)
    return (isinstance(a, number) and isinstance(b, number)) or type(a) is type(b)


_COMPARISONS: dict[str, Callable] = {
    "$eq": lambda v, x: v is not None and _same_kind(v, x) and v == x,
    "$ne": lambda v, x: not (v is not None and _same_kind(v, x) and v == x),  # a record without the key matches
    "$gt": lambda v, x: v is not None and _same_kind(v, x) and v > x,
    "$gte": lambda v, x: v is not None and _same_kind(v, x) and v >= x,
    "$lt": lambda v, x: v is not None and _same_kind(v, x) and v < x,
    "$lte": lambda v, x: v is not None and _same_kind(v, x) and v <= x,
    "$in": lambda v, xs: any(_COMPARISONS["$eq"](v, x) for x in xs),
    "$nin": lambda v, xs: not any(_COMPARISONS["$eq"](v, x) for x in xs),
}


def _condition(value) -> tuple[str, object]:
    """A field's condition as (operator, operand): ``{"$gte": 3}`` or a bare value (equality)."""
    if isinstance(value, dict):
        [(op, operand)] = value.items()
        return op, operand
    return "$eq", value


def checkable(where: dict) -> bool:
    """Whether ``matches`` reads ``where`` exactly as Chroma does: logical and comparison operators on strings,
    bools and ints (Chroma compares an int with a float operand truncated, which ``matches`` does not mimic)."""
    if not isinstance(where, dict) or not where:
        return False
    for key, value in where.items():
        if key in ("$and", "$or"):
            if not (isinstance(value, list) and value and all(checkable(w) for w in value)):
                return False
        elif key.startswith("$") or (isinstance(value, dict) and len(value) != 1):
            return False
        else:
            op, operand = _condition(value)
            values = operand if op in ("$in", "$nin") else [operand]
            if op not in _COMPARISONS or not isinstance(values, list):
                return False
            if not all(isinstance(v, (str, int, bool)) for v in values):  # Chroma truncates a float to compare ints
                return False
    return True


def matches(where: dict, metadata: dict) -> bool:
    """Whether a record's ``metadata`` satisfies a ``where`` filter as Chroma 1.5 reads it (see ``checkable``):
    ints and floats compare as numbers, a missing key fails every comparison but ``$ne`` and ``$nin``."""
    results = []
    for key, value in where.items():
        if key == "$and":
            results.append(all(matches(w, metadata) for w in value))
        elif key == "$or":
            results.append(any(matches(w, metadata) for w in value))
        else:
            op, operand = _condition(value)
            results.append(_COMPARISONS[op](metadata.get(key), operand))
    return all(results)


def nearest(
    collection,
    kind: str,
    embedding: Sequence[float],
    n: int,
    *,
    where: dict | None = None,
    documents: bool = False,
    excluded: Callable[[str], bool] | None = None,
    cheap: Sequence[dict] = (),
    broad: Sequence[dict] = (),
    first: int | None = None,
) -> list[Hit]:
    """The ``n`` records of ``collection`` nearest ``embedding`` among those that match ``where``, nearest first:
    what ``collection.query(..., where=where)`` answers, without the scan its filter costs.

    It asks the index for the ``first`` (default ``FIRST_FETCH * n``) nearest records with their metadata and
    keeps those that match (``matches``). When fewer than ``n`` do, it asks Chroma with each filter of
    ``cheap`` (supersets of ``where``: every match passes them, and few records do, so their scan is short);
    then the index for more records without a filter (as many as the share that matched says are needed, at
    most ``WIDEST``) by id and distance alone, reading the metadata only of records that ``excluded`` (a test
    on the id alone) does not rule out; when that share says even ``WIDEST`` would hold too few (an early
    as-of: few records are eligible), Chroma with each filter of ``broad`` (supersets cheaper to scan than
    ``where``), then with ``where`` itself.

    Guarantee: every record returned matches ``where``. And the records returned are the exact ``n`` nearest
    matches (records at exactly the n-th distance aside) whenever the index answers the query it is asked
    (unfiltered, or with a superset) with the exact nearest ``r`` records: every match beyond them is at least
    as far as the ``r``-th, hence as far as the n-th match among them. A query that returns fewer records than
    asked has read every record it could, so its matches are all there are. HNSW is approximate; Chroma's own
    filtered query rests on the same index, and the integration tests check both against brute force.
    """
    if n <= 0:
        return []
    include = ["metadatas", "distances", *(["documents"] if documents else [])]
    query = functools.partial(collection.query, query_embeddings=[list(map(float, embedding))])
    if where is None or not checkable(where):
        return _hits(kind, query(n_results=n, where=where, include=include))

    def answered(asked: int, superset: dict | None) -> tuple[list[Hit], list[Hit], bool]:
        """The hits of one query and those that match; whether they are proven to be the answer."""
        hits = _hits(kind, query(n_results=asked, where=superset, include=include))
        chosen = [h for h in hits if matches(where, h.metadata)]
        return hits, chosen, len(chosen) >= n or len(hits) < asked

    asked = first or FIRST_FETCH * n
    hits, chosen, done = answered(asked, None)
    for superset in () if done else cheap:
        _, chosen, done = answered(8 * n, superset)
        if done:
            break
    if done:
        return chosen[:n]
    known = {h.id: h for h in hits}
    kept = [h for h in hits if not (excluded and excluded(h.id))]
    found = sum(matches(where, h.metadata) for h in hits)
    share = max(found, 0.5) / max(len(kept), 1)  # of the records not ruled out by id that match
    asked = min(WIDEST, max(8 * asked, round(2 * _needed(asked, found, n))))
    while True:
        result = query(n_results=asked, include=["distances"])
        ids, distances = result["ids"][0], result["distances"][0]
        candidates = [(i, d) for i, d in zip(ids, distances, strict=True) if not (excluded and excluded(i))]
        chosen = _matching(collection, kind, candidates, n, where, known, include, share)
        if len(chosen) >= n or len(ids) < asked:
            return chosen[:n]
        needed = _needed(asked, len(chosen), n)
        if asked >= WIDEST or needed > 2 * WIDEST:  # the widest query would not find enough either
            break
        asked = min(WIDEST, round(2 * needed))
    for superset in broad:
        _, chosen, done = answered(FIRST_FETCH * n, superset)
        if done:
            return chosen[:n]
    return _hits(kind, query(n_results=n, where=where, include=include))


def equalities(where: dict | None) -> list[dict]:
    """The equality terms of an ``$and`` filter, as one filter: a superset of it that is short to scan when
    the values are selective (an event type, a symbol); none when ``where`` has no other term."""
    terms = (where or {}).get("$and", [])
    equal = [t for t in terms if checkable(t) and len(t) == 1 and _condition(next(iter(t.values())))[0] == "$eq"]
    equal = [t for t in equal if not next(iter(t)).startswith("$")]
    if not equal or len(equal) == len(terms):
        return []
    return [equal[0] if len(equal) == 1 else {"$and": equal}]


def _needed(asked: int, found: int, n: int) -> float:
    """How many nearest records to ask for to find ``n`` matches, at the share that matched among ``asked``."""
    return asked * n / max(found, 0.5)


def _matching(collection, kind, candidates, n, where, known: dict, include, share: float) -> list[Hit]:
    """The first ``n`` of ``candidates`` (id, distance; nearest first) whose metadata matches ``where``, reading
    the metadata of unseen ones (``known``: id -> Hit, filled here) in batches sized by the ``share`` of
    candidates expected to match (then by the share seen), only as far as needed."""
    chosen: list[Hit] = []
    start = 0
    while len(chosen) < n and start < len(candidates):
        size = min(HYDRATED, max(8, math.ceil(2 * (n - len(chosen)) / share)))
        batch = candidates[start : start + size]
        unseen = [i for i, _ in batch if i not in known]
        if unseen:
            got = collection.get(ids=unseen, include=[i for i in include if i != "distances"])
            docs = got["documents"] if got.get("documents") is not None else [None] * len(got["ids"])
            for i, meta, doc in zip(got["ids"], got["metadatas"], docs, strict=True):
                known[i] = Hit(kind, i, 0.0, doc, meta or {})
        for i, distance in batch:
            hit = known.get(i)  # a record deleted since the query is gone
            if hit is not None and len(chosen) < n and matches(where, hit.metadata):
                chosen.append(replace(hit, distance=float(distance)))
        start += len(batch)
        share = max(len(chosen), 0.5) / start
    return chosen


def search(
    chroma_client, text: str, *, kinds: list[str] | None = None, where: dict | None = None, k: int = 10
) -> list[Hit]:
    """The ``k`` nearest documents to ``text`` across the chosen kinds, nearest first (the text embedded once)."""
    if not text or not text.strip():
        raise ValueError("the search text is empty")
    unknown = set(kinds or []) - set(TEXT_KINDS)
    if unknown:
        raise ValueError(f"unknown kinds {sorted(unknown)}; choose from {sorted(TEXT_KINDS)}")
    embedding = query_embedding(text)
    hits: list[Hit] = []
    for kind in kinds or list(TEXT_KINDS):
        read = functools.partial(
            nearest, kind=kind, embedding=embedding, n=k, where=where, documents=True, cheap=equalities(where)
        )
        hits += _read(chroma_client, kind, read)
    return sorted(hits, key=lambda h: h.distance)[:k]


@functools.lru_cache(maxsize=512)
def query_embedding(text: str) -> np.ndarray:
    """``text``'s embedding, kept for the process's next ask of the same text (a question's subject, a repeated
    search): a query pays the model once per text, not once per answer. Read-only, as it is shared."""
    [embedding] = vectors.text_embedding_function()([text])
    embedding = np.asarray(embedding, dtype=np.float32)
    embedding.setflags(write=False)
    return embedding


def similar_companies(chroma_client, symbol: str, k: int = 5) -> list[Hit]:
    """Companies whose business descriptions are nearest to ``symbol``'s."""

    def missing():
        raise LookupError(f"{symbol} has no company description in the index; run the company_graph pipeline")

    def read(collection) -> list[Hit]:
        own = collection.get(ids=[f"company:{symbol}"], include=["embeddings"])
        if not own["ids"]:
            missing()
        where = {"symbol": {"$ne": symbol}}  # one record per company: the filter rules out one record at most
        return nearest(collection, vectors.COMPANIES, own["embeddings"][0], k, where=where, documents=True, first=k + 1)

    return _read(chroma_client, vectors.COMPANIES, read, missing)


def similar_sector_profiles(chroma_client, query: np.ndarray, cutoff: date, *, k: int) -> list[dict]:
    """The ``k`` month-end sector-rotation profiles nearest ``query`` among those dated on or before ``cutoff``."""
    where = {"epoch_day": {"$lte": epoch_day(cutoff)}}
    read = functools.partial(nearest, kind=vectors.SECTOR_PROFILES, embedding=query, n=k, where=where)
    hits = _read(chroma_client, vectors.SECTOR_PROFILES, read)
    return [{**h.metadata, "distance": h.distance} for h in hits]


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
    read = functools.partial(analogue_candidates, query=query, cutoff=cutoff, window=window, n=2 * k)
    hits = _read(chroma_client, vectors.PRICE_PATTERNS, read)
    return _forward_returns(conn, [(h.metadata, h.distance) for h in hits], horizon, as_of)[:k]


def analogue_candidates(collection, query: np.ndarray, cutoff: date, *, window: int, n: int) -> list[Hit]:
    """The ``n`` price patterns of ``window`` sessions nearest ``query`` among those ending on or before ``cutoff``.

    An id names its window and its ISO week, so records of another window or of a week after the cutoff's
    are ruled out unread; the cheaper filter on the date alone answers before the full one (every record
    of the collection normally has the one window)."""
    day = epoch_day(cutoff)
    by_date = {"epoch_day": {"$lte": day}}

    def excluded(record_id: str) -> bool:
        named = patterns.window_week(record_id)
        return named is not None and (named[0] != window or named[1] > cutoff)

    return nearest(
        collection,
        vectors.PRICE_PATTERNS,
        query,
        n,
        where={"$and": [{"window": window}, by_date]},
        excluded=excluded,
        broad=[by_date],
    )


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
