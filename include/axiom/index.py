"""The semantic index: what each Chroma collection should hold, derived from the ledger alone.

Every collection has a record builder (ids, metadata, documents or vectors). Pipelines use
the builders for their own rows; the index DAG uses them for all rows, to bring each collection
in line with the ledger: upsert what is new or changed, delete what the ledger no longer has,
and record a high-water mark (the newest ledger run id it has seen).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from psycopg.types.json import Jsonb

from axiom.analytics.patterns import weekly_pattern_vectors
from axiom.stores import ledger, vectors

log = logging.getLogger(__name__)
EPOCH = date(1970, 1, 1)


def epoch_day(day: date) -> int:
    """Days since 1970-01-01: the integer every collection's date filters use (field ``epoch_day``)."""
    return (day - EPOCH).days


@dataclass(frozen=True)
class Records:
    ids: list[str]
    metadatas: list[dict]
    documents: list[str] | None = None
    embeddings: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def upsert(self, collection) -> int:
        """Write the records whose content differs from what the collection holds."""
        return vectors.upsert_changed(
            collection, self.ids, metadatas=self.metadatas, documents=self.documents, embeddings=self.embeddings
        )


def company_records(conn, symbols: list[str] | None = None) -> Records:
    companies = ledger.latest_companies(conn, symbols)
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
    events = ledger.market_events(conn, event_ids)
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
    rows = ledger.correlations(conn, **scope)
    documents = []
    for r in rows:
        head = (
            f"{r['a']} and {r['b']} daily returns correlated at {r['coefficient']:+.2f} over {r['window']}"
            f" sessions to {r['as_of'].isoformat()}."
        )
        documents.append(f"{head} {r['explanation']}" if r["explanation"] else head)
    return Records(
        ids=[f"correlation:{r['a']}:{r['b']}:{r['window']}:{r['as_of'].isoformat()}" for r in rows],
        documents=documents,
        metadatas=[
            {
                "type": "correlation",
                "a": r["a"],
                "b": r["b"],
                "coefficient": r["coefficient"],
                "window": r["window"],
                "as_of": r["as_of"].isoformat(),
                "epoch_day": epoch_day(r["as_of"]),
            }
            for r in rows
        ],
    )


def pattern_records(
    conn, *, window: int, symbols: list[str] | None = None, start: date | None = None, end: date | None = None
) -> Records:
    symbols = symbols or [r[0] for r in conn.execute("SELECT DISTINCT symbol FROM price_bar WHERE interval = '1d'")]
    history_from = start - timedelta(days=2 * window + 14) if start else None
    closes = ledger.closes(conn, sorted(symbols), "1d", history_from, end + timedelta(days=1) if end else None)
    patterns = weekly_pattern_vectors(closes, window=window, start=start, end=end)
    return Records(patterns.ids, patterns.metadatas, embeddings=patterns.embeddings)


@dataclass(frozen=True)
class IndexSpec:
    collection: str
    table: str
    open: Callable
    build: Callable  # (conn, window) -> Records


SPECS = [
    IndexSpec(vectors.PRICE_PATTERNS, "price_bar", vectors.price_patterns, lambda c, w: pattern_records(c, window=w)),
    IndexSpec(vectors.COMPANIES, "company_fundamentals", vectors.companies, lambda c, w: company_records(c)),
    IndexSpec(vectors.MARKET_EVENTS, "market_event", vectors.market_events, lambda c, w: event_records(c)),
    IndexSpec(vectors.CORRELATIONS, "correlation", vectors.correlations, lambda c, w: correlation_records(c)),
]


def reconcile(conn, chroma_client, spec: IndexSpec, *, window: int) -> dict:
    """Bring one collection in line with the ledger; return what changed.

    When the source table has neither a newer run nor a different row count than at the last
    reconciliation, and the collection still holds what it held then, nothing is recomputed.
    """
    high_water, table_rows = conn.execute(
        f"SELECT coalesce(max(run_id), 0), count(*) FROM {spec.table}"  # table names are constants of SPECS
    ).fetchone()
    collection = spec.open(chroma_client)
    last = conn.execute(
        "SELECT high_water, ledger_count, changes->'table_rows' FROM index_state WHERE collection = %s",
        (spec.collection,),
    ).fetchone()
    if last and (last[0], last[2]) == (high_water, table_rows) and collection.count() == last[1]:
        log.info("%s: unchanged since the last run (high-water run %d)", spec.collection, high_water)
        changes = {
            "upserted": 0,
            "deleted": 0,
            "ledger": last[1],
            "chroma": last[1],
            "table_rows": table_rows,
            "skipped": True,
        }
    else:
        held = set(collection.get(include=[])["ids"])
        records = spec.build(conn, window)
        stale = sorted(held - set(records.ids))
        for start in range(0, len(stale), 4000):
            collection.delete(ids=stale[start : start + 4000])
        written = records.upsert(collection)
        changes = {
            "upserted": written,
            "deleted": len(stale),
            "ledger": len(records),
            "chroma": collection.count(),
            "table_rows": table_rows,
        }
    with ledger.transaction(conn):
        conn.execute(
            "INSERT INTO index_state (collection, high_water, ledger_count, changes) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (collection) DO UPDATE SET high_water = EXCLUDED.high_water,"
            " ledger_count = EXCLUDED.ledger_count, changes = EXCLUDED.changes, indexed_at = now()",
            (spec.collection, high_water, changes["ledger"], Jsonb(changes)),
        )
    log.info("%s: %s (high-water run %d)", spec.collection, changes, high_water)
    return changes


LEDGER_COUNT_SQL = {
    # one window per symbol and ISO week whose last session has `window` returns to it that are not all equal
    vectors.PRICE_PATTERNS: (
        "SELECT count(*) FROM (SELECT i, sd, row_number() OVER (PARTITION BY symbol, week ORDER BY ts DESC) AS nth"
        " FROM (SELECT symbol, ts, to_char(ts, 'IYYY-IW') AS week,"
        " row_number() OVER (PARTITION BY symbol ORDER BY ts) - 1 AS i,"
        " stddev_pop(r) OVER (PARTITION BY symbol ORDER BY ts ROWS BETWEEN %(back)s PRECEDING AND CURRENT ROW) AS sd"
        " FROM (SELECT symbol, ts, close / lag(close) OVER (PARTITION BY symbol ORDER BY ts) - 1 AS r"
        " FROM price_bar WHERE interval = '1d') returns) windows) weeks"
        " WHERE nth = 1 AND i >= %(window)s AND sd > 1e-12"
    ),
    vectors.COMPANIES: "SELECT count(DISTINCT symbol) FROM company_fundamentals",
    vectors.MARKET_EVENTS: "SELECT count(*) FROM market_event",
    vectors.CORRELATIONS: "SELECT count(*) FROM correlation",
}


def ledger_counts(conn, *, window: int) -> dict[str, int]:
    """How many records each collection should hold, counted in the ledger by SQL alone."""
    values = {"window": window, "back": window - 1}
    return {name: conn.execute(sql, values).fetchone()[0] for name, sql in LEDGER_COUNT_SQL.items()}


def spec(collection: str) -> IndexSpec:
    return next(s for s in SPECS if s.collection == collection)
