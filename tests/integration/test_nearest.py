"""Chroma's filtered reads answered without Chroma's filter (``axiom.search.nearest``), on real data, checked
against Chroma's filtered query and a brute-force search over the same vectors read back from Chroma: the
analogues of hundreds of (symbol, as-of) pairs spread over the history (its first weeks included, where few
windows are eligible and the fallback must answer), the sector profiles, similar companies and the
cascade's event search. Same ids in the same order as the filtered query; the brute-force ranking up to
records at equal distances.
"""

from __future__ import annotations

import itertools
import random
from datetime import date, timedelta

import numpy as np
import pytest

from axiom import search
from axiom.analytics.patterns import pattern_vector, window_week
from axiom.calendar import epoch_day
from axiom.stores import ledger, vectors
from tests.support import load_stores

START, END = date(2012, 1, 1), date(2022, 12, 31)
RUNS = (
    ("company_graph", {"provider": "offline"}),
    ("price_ingestion", {"symbols": [], "start": START.isoformat(), "end": END.isoformat(), "provider": "offline"}),
    ("market_events", {"symbols": [], "start": START.isoformat(), "end": END.isoformat(), "k": 5.0, "window": 60}),
    ("correlations", {"window": 30, "threshold": 0.7}),  # other records with `window` and `epoch_day` keys
)
PAIRS = 300
WINDOW, HORIZON, N = 30, 20, 20  # what "is X a buy?" asks: 2 x 10 candidates, 20-session horizon


@pytest.fixture(scope="module")
def loaded(dagbag, pg, redis_client, neo4j_driver, chroma_client, tmp_path_factory):
    load_stores(dagbag, RUNS, pg=pg, redis_client=redis_client, neo4j_driver=neo4j_driver,
                chroma_client=chroma_client, landing=tmp_path_factory.mktemp("landing"))  # fmt: skip
    return chroma_client


class Counted:
    """A real collection, passed through, that records which reads it forwarded (filtered or not)."""

    def __init__(self, collection):
        self.collection, self.reads = collection, []

    def query(self, **kwargs):
        self.reads.append("filtered" if kwargs.get("where") is not None else "unfiltered")
        return self.collection.query(**kwargs)

    def get(self, **kwargs):
        self.reads.append("get")
        return self.collection.get(**kwargs)


class Brute:
    """Every record of a collection, read back from Chroma, searched exhaustively in float64."""

    def __init__(self, collection, space: str):
        held = vectors.held_records(collection)
        self.ids = list(held)
        self.metadatas = [held[i]["metadata"] for i in self.ids]
        vecs = np.array([held[i]["embedding"] for i in self.ids], dtype=np.float64)
        self.space = space
        self.vectors = vecs / np.linalg.norm(vecs, axis=1, keepdims=True) if space == "cosine" else vecs

    def distances(self, query) -> np.ndarray:
        q = np.asarray(query, dtype=np.float64)
        if self.space == "cosine":
            return 1 - self.vectors @ (q / np.linalg.norm(q))
        return ((self.vectors - q) ** 2).sum(axis=1)  # Chroma's l2 is the squared distance

    def nearest(self, query, where: dict, n: int) -> tuple[list[tuple[str, float]], dict[str, float]]:
        """The n nearest records that match ``where`` (one more, to see a tie at the boundary), and every
        record's distance."""
        d = self.distances(query)
        eligible = np.array([search.matches(where, m) for m in self.metadatas], dtype=bool)
        order = [i for i in np.argsort(d, kind="stable") if eligible[i]][: n + 1]
        return [(self.ids[i], float(d[i])) for i in order], dict(zip(self.ids, d.tolist(), strict=True))


def tied(a: float, b: float) -> bool:
    """Equal but for float32 rounding (Chroma computes distances in float32)."""
    return abs(a - b) <= 1e-5 * max(abs(a), abs(b)) + 1e-6


def assert_exact(ids, distances, n: int, filtered: dict, brute: list[tuple[str, float]], truth: dict) -> bool:
    """The answer for ``n`` (``ids`` with their ``distances``) is the filtered query's, and the brute-force one
    up to ties; True when the brute-force order had no tie to resolve (then its ids must be the same too)."""
    assert ids == filtered["ids"][0]
    assert distances == pytest.approx(filtered["distances"][0], rel=1e-6, abs=1e-9)
    expected = brute[:n]
    assert len(ids) == len(expected)
    for record_id, distance, (_, true) in zip(ids, distances, expected, strict=True):
        assert tied(truth[record_id], true), (record_id, truth[record_id], true)  # as near as the one of its rank
        assert tied(distance, truth[record_id])
    ties = any(tied(a, b) for (_, a), (_, b) in itertools.pairwise(brute))
    if not ties:
        assert ids == [i for i, _ in expected]
    return not ties


def assert_hits_exact(hits, n: int, filtered: dict, brute: list[tuple[str, float]], truth: dict) -> bool:
    return assert_exact([h.id for h in hits], [h.distance for h in hits], n, filtered, brute, truth)


def pattern_where(cutoff: date) -> dict:
    return {"$and": [{"window": WINDOW}, {"epoch_day": {"$lte": epoch_day(cutoff)}}]}


def pairs(pg) -> list[tuple[str, date]]:
    """(symbol, as-of session) pairs with a fixed seed: a sixth in the history's first 60 sessions that have
    a query window and a horizon before them (few windows had ended by the cut-off), a sixth in its first
    tenth, the rest anywhere."""
    sessions = ledger.prices.last_sessions(pg, ledger.prices.session_span(pg)[1], 100_000)
    rng = random.Random(20)
    symbols = ledger.prices.symbols(pg)
    start = WINDOW + HORIZON + 1
    ends = [start + 60, start + 60, len(sessions) // 10, len(sessions) // 10, len(sessions), len(sessions)]
    return [(rng.choice(symbols), sessions[rng.randrange(start, ends[i % 6])]) for i in range(PAIRS)]


def analogue_query(pg, symbol: str, as_of: date):
    """The query vector and horizon cut-off of ``similar_price_patterns`` for ``symbol`` as of ``as_of``."""
    history = ledger.prices.closes(pg, [symbol], since=as_of - timedelta(days=120), until=as_of)
    closes = history["close"].to_numpy(dtype=float)
    if len(closes) <= WINDOW + HORIZON:
        return None, None
    return pattern_vector(closes, WINDOW), history["ts"].iloc[-HORIZON - 1].date()


def test_analogues_equal_the_filtered_query_and_brute_force_across_history(loaded, pg):
    collection = vectors.price_patterns(loaded)
    brute = Brute(collection, "l2")
    assert len(brute.ids) > 10_000
    first = ledger.prices.session_span(pg)[0]
    checked = untied = 0
    paths = {"early": [], "late": []}
    for symbol, as_of in pairs(pg):
        query, cutoff = analogue_query(pg, symbol, as_of)
        if query is None:
            continue
        counted = Counted(collection)
        got = search.analogue_candidates(counted, query, cutoff, window=WINDOW, n=N)
        where = pattern_where(cutoff)
        filtered = collection.query(query_embeddings=[query.tolist()], n_results=N, where=where,
                                    include=["metadatas", "distances"])  # fmt: skip
        expected, truth = brute.nearest(query, where, N)
        untied += assert_hits_exact(got, N, filtered, expected, truth)
        assert all(h.metadata["epoch_day"] <= epoch_day(cutoff) and h.metadata["window"] == WINDOW for h in got)
        checked += 1
        paths["early" if (cutoff - first).days < 365 else "late"].append(counted.reads)
    assert checked >= 0.9 * PAIRS and untied >= 0.9 * checked
    # the hard case was met: early as-ofs with too few eligible windows near the query, answered by the fallback
    assert sum("filtered" in r for r in paths["early"]) >= 10
    # ... and after the first year of history Chroma's filter is hardly ever needed
    assert sum("filtered" in r for r in paths["late"]) <= 0.02 * len(paths["late"])
    assert sum(r == ["unfiltered"] for r in paths["late"]) >= 0.3 * len(paths["late"])


def test_analogues_before_any_eligible_window_are_none(loaded, pg):
    collection = vectors.price_patterns(loaded)
    first = ledger.prices.session_span(pg)[0]
    query = collection.get(limit=1, include=["embeddings"])["embeddings"][0]
    for cutoff in (first - timedelta(days=1), first + timedelta(days=30)):
        assert search.analogue_candidates(collection, query, cutoff, window=WINDOW, n=N) == []
        assert search.analogue_candidates(collection, query, cutoff + timedelta(days=3650), window=7, n=N) == []


def test_similar_price_patterns_are_the_filtered_candidates_whose_horizon_ended(loaded, pg):
    collection = vectors.price_patterns(loaded)
    answered = 0
    for symbol, as_of in pairs(pg)[::6]:
        query, cutoff = analogue_query(pg, symbol, as_of)
        if query is None:
            continue
        as_of = ledger.prices.last_sessions(pg, as_of, 1, symbol)[0]
        matches = search.similar_price_patterns(pg, loaded, symbol, as_of, k=N // 2, horizon=HORIZON)
        filtered = collection.query(query_embeddings=[query.tolist()], n_results=N, where=pattern_where(cutoff),
                                    include=["metadatas"])  # fmt: skip
        candidates = [(m["symbol"], date.fromisoformat(m["as_of"])) for m in filtered["metadatas"][0]]
        ends = {candidates[i]: end for i, _, end, _ in ledger.prices.forward_closes(pg, candidates, HORIZON)}
        expected = [c for c in candidates if c in ends and ends[c] <= as_of][: N // 2]
        assert [(m.symbol, m.window_end) for m in matches] == expected
        assert all(m.horizon_end == ends[m.symbol, m.window_end] <= as_of and m.window_end <= cutoff for m in matches)
        answered += bool(matches)
    assert answered > 30


def test_pattern_ids_name_the_window_and_week_of_their_record(loaded):
    collection = vectors.price_patterns(loaded)
    got = collection.get(limit=2000, include=["metadatas"])
    for record_id, meta in zip(got["ids"], got["metadatas"], strict=True):
        window, monday = window_week(record_id)
        end = date.fromisoformat(meta["as_of"])
        assert window == meta["window"] and monday <= end < monday + timedelta(days=7)
    assert window_week("company:AAPL") is None


def test_sector_profiles_equal_the_filtered_query_and_brute_force(loaded):
    collection = vectors.sector_profiles(loaded)
    brute = Brute(collection, "l2")
    assert len(brute.ids) > 100
    rng = np.random.default_rng(3)
    days = sorted(date.fromisoformat(m["as_of"]) for m in brute.metadatas)
    checked = 0
    for i in range(0, len(brute.ids), 2):
        query = brute.vectors[i] + rng.normal(0, 0.02, brute.vectors.shape[1])
        for cutoff in (days[rng.integers(len(days))], days[i % 6], days[-1] + timedelta(days=1)):
            got = search.similar_sector_profiles(loaded, query, cutoff, k=8)
            where = {"epoch_day": {"$lte": epoch_day(cutoff)}}
            filtered = collection.query(query_embeddings=[query.tolist()], n_results=8, where=where,
                                        include=["distances"])  # fmt: skip
            expected, truth = brute.nearest(query, where, 8)
            ids = [f"sector_profile:{g['as_of'][:7]}" for g in got]  # axiom.index's ids
            assert_exact(ids, [g["distance"] for g in got], 8, filtered, expected, truth)
            assert all(date.fromisoformat(g["as_of"]) <= cutoff and g["leader"] for g in got)
            checked += 1
    assert checked > 150


def test_similar_companies_equal_the_filtered_query_and_brute_force(loaded):
    collection = vectors.companies(loaded)
    brute = Brute(collection, "cosine")
    for i, meta in enumerate(brute.metadatas):
        symbol = meta["symbol"]
        for k in (3, 8, len(brute.ids) - 1, len(brute.ids) + 5):
            got = search.similar_companies(loaded, symbol, k)
            where = {"symbol": {"$ne": symbol}}
            filtered = collection.query(query_embeddings=[brute.vectors[i].tolist()], n_results=k, where=where,
                                        include=["distances"])  # fmt: skip
            expected, truth = brute.nearest(brute.vectors[i], where, k)
            assert_hits_exact(got, k, filtered, expected, truth)
            assert symbol not in [h.metadata["symbol"] for h in got] and all(h.document for h in got)


def test_event_search_equals_the_filtered_query_and_brute_force(loaded, pg):
    collection = vectors.market_events(loaded)
    brute = Brute(collection, "cosine")
    decisions = [m for m in brute.metadatas if m["event_type"] == "fed_decision"]
    assert 20 < len(decisions) < len(brute.ids)
    titles = [e["title"] for e in ledger.events.fed_decisions(pg, ledger.prices.utc_midnight(END))][::20]
    texts = ["hypothetical hike 50bp", "hypothetical cut 25bp", "AAPL falls sharply", *titles]
    days = [START - timedelta(days=1), *(START + timedelta(days=d) for d in range(30, (END - START).days, 365))]
    paths = []
    for text in texts:
        [query] = vectors.text_embedding_function()([text])  # alone, as search embeds it (a batch pads it)
        for until in days:
            for where in (
                search.where_clause(event_type="fed_decision", until=until),  # the cascade's
                search.where_clause(since=until - timedelta(days=400), until=until),
                search.where_clause(symbol="AAPL", until=until),
            ):
                got = search.search(loaded, text, kinds=[vectors.MARKET_EVENTS], where=where, k=5)
                filtered = collection.query(query_embeddings=[query.tolist()], n_results=5, where=where,
                                            include=["distances"])  # fmt: skip
                expected, truth = brute.nearest(query, where, 5)
                assert_hits_exact(got, 5, filtered, expected, truth)
                counted = Counted(collection)  # the same read, to see which queries answered it
                search.nearest(counted, vectors.MARKET_EVENTS, query, 5, where=where, documents=True,
                               cheap=search.equalities(where))  # fmt: skip
                paths.append(counted.reads)
    # the decisions are a small share of the events: their type alone (a short scan) answered some asks
    assert any("filtered" in r for r in paths) and any(r == ["unfiltered"] for r in paths)


WHERES = [
    {"s": "x"},
    {"s": {"$ne": "x"}},
    {"s": {"$in": ["x", "y"]}},
    {"s": {"$nin": ["x"]}},
    {"n": 3},
    {"n": {"$lte": 1}},
    {"n": {"$lt": 2}},
    {"n": {"$gte": 2}},
    {"n": {"$in": [1, 3]}},
    {"n": {"$gt": 2}},
    {"n": {"$ne": 1}},
    {"b": True},
    {"b": {"$ne": True}},
    {"$and": [{"s": "x"}, {"n": {"$lte": 2}}]},
    {"$or": [{"s": "y"}, {"b": True}]},
    {"$and": [{"$or": [{"s": "x"}, {"s": "y"}]}, {"n": {"$gt": 0}}]},
]


def test_matches_reads_a_filter_as_chroma_does(loaded):
    metadatas = [{"s": "x", "n": 1}, {"n": 2}, {"s": "y", "n": 3.0}, {"s": "x", "b": True}, {"s": 5, "n": 1.5},
                 {"s": "y", "b": False, "n": -1}, {"s": "z", "n": 1.0}]  # fmt: skip
    ids = [f"r{i}" for i in range(len(metadatas))]
    scratch = loaded.get_or_create_collection("nearest_scratch", embedding_function=None)

    def filtered(where):
        return scratch.query(query_embeddings=[[0.0, 0.0]], n_results=2, where=where, include=[])["ids"][0]

    try:
        scratch.add(ids=ids, embeddings=[[float(i), 0.0] for i in range(len(ids))], metadatas=metadatas)
        for where in WHERES:
            assert search.checkable(where), where
            expected = sorted(scratch.get(where=where, include=[])["ids"])
            assert sorted(i for i, m in zip(ids, metadatas, strict=True) if search.matches(where, m)) == expected, where
            assert [h.id for h in search.nearest(scratch, "scratch", [0.0, 0.0], 2, where=where)] == filtered(where)
        # Chroma compares an int with a float operand truncated: such filters are left to Chroma
        for where in ({"n": {"$lt": 1.5}}, {"$and": [{"s": "x"}, {"n": {"$gte": 0.5}}]}):
            assert not search.checkable(where)
            assert [h.id for h in search.nearest(scratch, "scratch", [0.0, 0.0], 2, where=where)] == filtered(where)
    finally:
        loaded.delete_collection("nearest_scratch")
    for where in ({"s": {"$contains": "x"}}, {"$not": {"s": "x"}}, {"s": {"$in": "x"}}, {"s": [1, 2]}, {}):
        assert not search.checkable(where), where


def test_a_collection_made_anew_is_read_through_a_new_handle(loaded):
    """search opens each collection once per client; a projection rebuilt anew (the collection deleted and
    created again, as a change of pattern representation does) is opened again, not read through the old
    handle, and a read between the two finds it absent without creating it."""
    collection = vectors.sector_profiles(loaded)
    held = vectors.held_records(collection)
    query = next(iter(held.values()))["embedding"]
    day = date.fromisoformat(max(h["metadata"]["as_of"] for h in held.values()))
    before = search.similar_sector_profiles(loaded, query, day, k=3)
    assert len(before) == 3
    loaded.delete_collection(vectors.SECTOR_PROFILES)
    assert search.similar_sector_profiles(loaded, query, day, k=3) == []  # gone: it reads as empty
    assert vectors.SECTOR_PROFILES not in [c.name for c in loaded.list_collections()]  # and is not created
    again = vectors.sector_profiles(loaded)
    again.add(ids=list(held), embeddings=[h["embedding"] for h in held.values()],
              metadatas=[h["metadata"] for h in held.values()])  # fmt: skip
    assert search.similar_sector_profiles(loaded, query, day, k=3) == before
