"""The semantic index: what each Chroma collection should hold, derived from the ledger alone.

Every collection has a record builder (ids, metadata, documents or vectors) and one writer: the
pipeline that owns its source table writes the records of its run (``price_patterns`` and
``sector_profiles``: price ingestion, ``companies``: the company graph, ``market_events``: market
events, ``correlations``: correlations). The ``semantic_index`` DAG only verifies: a collection whose count equals the
ledger's and whose pipeline's runs since the last verification all succeeded is left alone;
otherwise it is repaired in full (upsert what is new or changed, delete what the ledger no
longer has).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from axiom.analytics.correlation import month_ends
from axiom.analytics.patterns import weekly_pattern_vectors
from axiom.analytics.sectors import HORIZONS, profile, sector_table
from axiom.calendar import epoch_day, history_start
from axiom.stores import ledger, vectors

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Records:
    ids: list[str]
    metadatas: list[dict]
    documents: list[str] | None = None
    embeddings: np.ndarray | None = None
    reuse: list[str | None] | None = None  # per record, an earlier record whose vector it takes if their texts agree

    def __len__(self) -> int:
        return len(self.ids)

    def upsert(self, collection, *, force: bool = False) -> int:
        """Write the records whose content differs from what the collection holds (``force``: every one)."""
        return vectors.upsert_changed(
            collection,
            self.ids,
            metadatas=self.metadatas,
            documents=self.documents,
            embeddings=self.embeddings,
            reuse=self.reuse,
            force=force,
        )

    def subset(self, ids: list[str]) -> Records:
        """The records with these ids, in this order."""
        at = {key: i for i, key in enumerate(self.ids)}
        rows = [at[key] for key in ids]
        return Records(
            ids=list(ids),
            metadatas=[self.metadatas[i] for i in rows],
            documents=None if self.documents is None else [self.documents[i] for i in rows],
            embeddings=None if self.embeddings is None else self.embeddings[rows],
            reuse=None if self.reuse is None else [self.reuse[i] for i in rows],
        )


def company_records(conn, symbols: list[str] | None = None) -> Records:
    companies = ledger.companies.latest_companies(conn, symbols)
    return Records(
        ids=[f"company:{c.symbol}" for c in companies],
        documents=[c.description for c in companies],
        metadatas=[
            {
                "type": "company",
                "symbol": c.symbol,
                "name": c.name,
                "sector": c.sector,
                "industry": c.industry,
            }
            for c in companies
        ],
    )


def event_records(conn, event_ids: list[int] | None = None) -> Records:
    events = ledger.events.market_events(conn, event_ids)
    documents = [f"{e['title']}. {e['summary']}".strip() for e in events]
    metadatas = []
    for e in events:
        day = e["occurred_at"].date()
        meta = {
            "type": "market_event",
            "event_type": e["event_type"] or "unclassified",
            "source": e["source"],
            "date": day.isoformat(),
            "epoch_day": epoch_day(day),
        }
        meta |= {k: e[k] for k in ("symbol", "impact", "sentiment") if e[k] is not None}
        metadatas.append(meta)
    return Records([f"market_event:{e['event_id']}" for e in events], metadatas, documents)


def correlation_records(conn, **scope) -> Records:
    """One document per pair, window and calendar month, from the pair's first strong session of the month
    (``ledger.correlations.pair_months``): what the pair is and why, with no figure that moves from session
    to session, so a pair strong again next month gets the same text and takes its vector from the last one."""
    rows = ledger.correlations.pair_months(conn, **scope)

    def key(r, month) -> str:
        return f"correlation:{r['a']}:{r['b']}:{r['window']}:{month:%Y-%m}"

    documents = []
    for r in rows:
        direction = "moved together" if r["coefficient"] >= 0 else "moved in opposite directions"
        head = f"{r['a']} and {r['b']}: daily returns {direction} over {r['window']} sessions."
        documents.append(f"{head} {r['explanation']}" if r["explanation"] else head)
    return Records(
        ids=[key(r, r["month"]) for r in rows],
        documents=documents,
        metadatas=[
            {
                "type": "correlation",
                "a": r["a"],
                "b": r["b"],
                "coefficient": r["coefficient"],
                "window": r["window"],
                "month": f"{r['month']:%Y-%m}",
                "as_of": r["as_of"].isoformat(),
                "epoch_day": epoch_day(r["as_of"]),
            }
            for r in rows
        ],
        reuse=[key(r, r["previous"]) if r["previous"] else None for r in rows],
    )


def pattern_records(
    conn, *, window: int, symbols: list[str] | None = None, start: date | None = None, end: date | None = None
) -> Records:
    symbols = symbols or ledger.prices.symbols(conn)
    closes = ledger.prices.closes(conn, sorted(symbols), since=history_start(start, window), until=end)
    patterns = weekly_pattern_vectors(closes, window=window, start=start, end=end)
    return Records(patterns.ids, patterns.metadatas, embeddings=patterns.embeddings)


def sector_profile_records(conn, *, start: date | None = None, end: date | None = None) -> Records:
    """One sector-rotation profile per month-end session (see ``axiom.analytics.sectors``), id
    ``sector_profile:{YYYY-MM}``; the month's leading sector is kept in the metadata."""
    sectors = {c.symbol: c.sector for c in ledger.companies.latest_companies(conn)}
    closes = ledger.prices.closes(conn, sorted(sectors), since=history_start(start, max(HORIZONS)), until=end)
    if closes.empty:
        return Records([], [], embeddings=np.empty((0, 0)))
    wide = closes.pivot(index="ts", columns="symbol", values="close").sort_index()
    ids, metadatas, vectors_ = [], [], []
    for day in month_ends(wide.index, start, end):
        upto = wide.loc[:day]
        if len(upto) <= max(HORIZONS):
            continue
        table = sector_table(upto, sectors)
        when = day.date()
        ids.append(f"sector_profile:{when:%Y-%m}")
        metadatas.append(
            {
                "type": "sector_profile",
                "as_of": when.isoformat(),
                "epoch_day": epoch_day(when),
                "leader": str(table["score"].idxmax()),
                "sectors": len(table),
            }
        )
        vectors_.append(profile(table))
    return Records(ids, metadatas, embeddings=np.array(vectors_) if vectors_ else np.empty((0, 0)))


@dataclass(frozen=True)
class IndexSpec:
    collection: str
    pipeline: str  # the collection's one writer
    open: Callable
    build: Callable  # (conn, window) -> Records
    count: Callable  # (conn, window) -> how many records the ledger implies, by SQL alone


SPECS = [
    IndexSpec(
        vectors.PRICE_PATTERNS,
        "price_ingestion",
        vectors.price_patterns,
        lambda c, w: pattern_records(c, window=w),
        lambda c, w: ledger.prices.pattern_window_count(c, w),
    ),
    IndexSpec(
        vectors.SECTOR_PROFILES,
        "price_ingestion",
        vectors.sector_profiles,
        lambda c, w: sector_profile_records(c),
        lambda c, w: len(sector_profile_records(c)),
    ),
    IndexSpec(
        vectors.COMPANIES,
        "company_graph",
        vectors.companies,
        lambda c, w: company_records(c),
        lambda c, w: ledger.companies.company_count(c),
    ),
    IndexSpec(
        vectors.MARKET_EVENTS,
        "market_events",
        vectors.market_events,
        lambda c, w: event_records(c),
        lambda c, w: ledger.events.event_count(c),
    ),
    IndexSpec(
        vectors.CORRELATIONS,
        "correlations",
        vectors.correlations,
        lambda c, w: correlation_records(c),
        lambda c, w: ledger.correlations.pair_month_count(c),
    ),
]


def repair(conn, chroma_client, spec: IndexSpec, *, window: int) -> dict:
    """Bring one collection in line with the ledger: upsert what is new or changed, delete the rest."""
    collection = spec.open(chroma_client)
    held = set(collection.get(include=[])["ids"])
    records = spec.build(conn, window)
    stale = sorted(held - set(records.ids))
    for start in range(0, len(stale), 4000):
        collection.delete(ids=stale[start : start + 4000])
    written = records.upsert(collection)
    return {"upserted": written, "deleted": len(stale), "ledger": len(records), "chroma": collection.count()}


WRITING_FOR = timedelta(hours=2)  # a pipeline run still 'running' after this long is taken to have died


def verify(conn, chroma_client, spec: IndexSpec, *, window: int) -> dict:
    """Check one collection against the ledger; repair it only when it may have drifted. Return what changed.

    It may have drifted when its count differs from the ledger's or a run of its pipeline since the
    last verification did not succeed (so its vectorise step may not have run). While a run of its
    pipeline is writing (for less than ``WRITING_FOR``), the collection is left to that run: repairing
    it beside the run would embed the same documents twice, and the run's announcement starts the next
    verification.
    """
    expected = spec.count(conn, window)
    held = spec.open(chroma_client).count()
    writing = ledger.runs.writing_run(conn, spec.pipeline, within=WRITING_FOR)
    if writing is not None:
        log.info("%s: left to run %d of %s, which is writing it", spec.collection, writing, spec.pipeline)
        return {"upserted": 0, "deleted": 0, "ledger": expected, "chroma": held, "repaired": False, "writer": writing}
    settled = ledger.runs.settled_through(conn, spec.pipeline)
    state = ledger.index_state.get(conn, spec.collection)
    suspect = state is None or not ledger.runs.all_succeeded_between(conn, spec.pipeline, state.verified_run, settled)
    if held == expected and not suspect:
        changes = {"upserted": 0, "deleted": 0, "ledger": expected, "chroma": held, "repaired": False}
    else:
        log.info("%s: repairing (chroma %d, ledger %d, runs to check: %s)", spec.collection, held, expected, suspect)
        changes = {**repair(conn, chroma_client, spec, window=window), "repaired": True}
    ledger.index_state.record(
        conn, spec.collection, verified_run=settled, ledger_count=changes["ledger"], changes=changes
    )
    log.info("%s: %s (verified through run %d)", spec.collection, changes, settled)
    return changes


def ledger_counts(conn, *, window: int) -> dict[str, int]:
    """How many records each collection should hold, counted in the ledger by SQL alone."""
    return {s.collection: s.count(conn, window) for s in SPECS}


def spec(collection: str) -> IndexSpec:
    return next(s for s in SPECS if s.collection == collection)
