"""PostgreSQL, the ledger: runs, price bars and rejected rows.

Every write is one transaction per batch. Bars are upserted on their natural key
(symbol, interval, ts): a batch whose keys cannot exist yet (no bar of that symbol and interval
in its time span) is COPYed straight in; otherwise it is COPYed into a temporary stage and merged
with ``INSERT ... ON CONFLICT DO UPDATE ... WHERE IS DISTINCT FROM``, so a re-run rewrites nothing.
All statements are parameterised.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from psycopg.types.json import Jsonb

from axiom.analysts.base import Company
from axiom.validation import Rejects

log = logging.getLogger(__name__)

BAR_TABLE_COLUMNS = (
    "symbol",
    "interval",
    "ts",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "adjusted",
    "source",
    "run_id",
)


def transaction(conn):
    """One real transaction (BEGIN ... COMMIT) on an autocommit connection.

    On a non-autocommit connection psycopg would silently nest a savepoint inside an implicit
    transaction that nobody commits, so such a connection is refused.
    """
    if not conn.autocommit:
        raise RuntimeError("the ledger needs an autocommit psycopg connection (conn.autocommit = True)")
    return conn.transaction()


@dataclass(frozen=True)
class LoadResult:
    """What a bar load did: rows new to the ledger, rows whose values changed, rows already there."""

    inserted: int
    updated: int
    unchanged: int

    def as_dict(self) -> dict[str, int]:
        return {"inserted": self.inserted, "updated": self.updated, "unchanged": self.unchanged}


def start_run(conn, *, pipeline: str, provider: str, params: dict) -> int:
    """Record a new ingestion run and return its id."""
    with transaction(conn):
        row = conn.execute(
            "INSERT INTO ingestion_run (pipeline, provider, params) VALUES (%s, %s, %s) RETURNING run_id",
            (pipeline, provider, Jsonb(params)),
        ).fetchone()
    return row[0]


def update_run(conn, run_id: int, *, stats: dict | None = None, status: str | None = None) -> None:
    """Merge ``stats`` into the run's stats; set its status (and finish time) when given."""
    with transaction(conn):
        conn.execute(
            "UPDATE ingestion_run SET stats = stats || %s, status = coalesce(%s, status),"
            " finished_at = CASE WHEN %s::text IS NULL THEN finished_at ELSE now() END WHERE run_id = %s",
            (Jsonb(stats or {}), status, status, run_id),
        )


def get_run(conn, run_id: int) -> dict:
    """The run's pipeline, provider, params, status and stats."""
    row = conn.execute(
        "SELECT pipeline, provider, params, status, stats FROM ingestion_run WHERE run_id = %s", (run_id,)
    ).fetchone()
    if row is None:
        raise LookupError(f"no ingestion run {run_id}")
    return dict(zip(("pipeline", "provider", "params", "status", "stats"), row, strict=True))


def record_rejects(conn, run_id: int, dataset: str, rejects: Rejects) -> int:
    """Keep rejected rows with their reasons; a row seen before bumps its counters."""
    if not len(rejects):
        return 0
    rows = []
    for payload, reason in zip(rejects.payloads, rejects.reasons, strict=True):
        text = json.dumps(payload, sort_keys=True)
        rows.append((dataset, reason, Jsonb(payload), hashlib.sha256(text.encode()).hexdigest(), run_id, run_id))
    with transaction(conn), conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO rejected_row (dataset, reason, payload, payload_sha256, first_run_id, last_run_id)"
            " VALUES (%s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (dataset, reason, payload_sha256) DO UPDATE SET last_run_id = EXCLUDED.last_run_id,"
            " seen_count = rejected_row.seen_count + 1, last_seen = now()",
            rows,
        )
    return len(rows)


def copy_csv(frame: pd.DataFrame, columns: tuple[str, ...]) -> bytes:
    """The frame as CSV for ``COPY ... (FORMAT csv)``: empty unquoted fields are NULL, text is quoted.

    Arrow's C++ writer formats the rows (floats in shortest round-trip form, timestamps in UTC);
    pandas' ``to_csv`` would take longer than the COPY itself.
    """
    table = pa.Table.from_pandas(frame.loc[:, list(columns)], preserve_index=False)
    buf = io.BytesIO()
    pa_csv.write_csv(table, buf, pa_csv.WriteOptions(include_header=False, quoting_style="needed"))
    return buf.getvalue()


def copy_rows(cur, table: str, frame: pd.DataFrame, columns: tuple[str, ...]) -> None:
    """COPY ``frame`` into ``table`` (a trusted identifier from this module, never user input)."""
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT csv)") as copy:
        copy.write(copy_csv(frame, columns))


def load_bars(conn, bars: pd.DataFrame, *, run_id: int, source: str, adjusted: bool) -> LoadResult:
    """Upsert validated bars in one transaction; return how many were inserted, updated, unchanged."""
    if bars.empty:
        return LoadResult(0, 0, 0)
    frame = bars.assign(source=source, adjusted=adjusted, run_id=run_id)
    spans = frame.groupby(["symbol", "interval"])["ts"].agg(["min", "max"]).reset_index()
    with transaction(conn), conn.cursor() as cur:
        # one writer per symbol at a time, so the straight-COPY path cannot race another load
        cur.execute(
            "SELECT pg_advisory_xact_lock(hashtext('price_bar:' || s)) FROM unnest(%s::text[]) AS s ORDER BY s",
            (sorted(spans["symbol"].unique()),),
        )
        cur.execute(
            "SELECT s.symbol, s.interval FROM unnest(%s::text[], %s::text[], %s::timestamptz[], %s::timestamptz[])"
            " AS s(symbol, interval, lo, hi) WHERE EXISTS (SELECT 1 FROM price_bar b WHERE b.symbol = s.symbol"
            " AND b.interval = s.interval AND b.ts BETWEEN s.lo AND s.hi)",
            (
                spans["symbol"].tolist(),
                spans["interval"].tolist(),
                spans["min"].dt.to_pydatetime().tolist(),
                spans["max"].dt.to_pydatetime().tolist(),
            ),
        )
        overlapping = set(cur.fetchall())
        keys = pd.MultiIndex.from_arrays([frame["symbol"], frame["interval"]])
        mask = keys.isin(list(overlapping)) if overlapping else np.zeros(len(frame), dtype=bool)
        fresh, merge = frame[~mask], frame[mask]
        if not fresh.empty:
            copy_rows(cur, "price_bar", fresh, BAR_TABLE_COLUMNS)
        inserted, updated = len(fresh), 0
        if not merge.empty:
            cur.execute("CREATE TEMP TABLE price_bar_stage (LIKE price_bar INCLUDING DEFAULTS) ON COMMIT DROP")
            copy_rows(cur, "price_bar_stage", merge, BAR_TABLE_COLUMNS)
            cur.execute(
                "WITH merged AS ("
                " INSERT INTO price_bar AS t SELECT * FROM price_bar_stage"
                " ON CONFLICT (symbol, interval, ts) DO UPDATE SET open = EXCLUDED.open, high = EXCLUDED.high,"
                " low = EXCLUDED.low, close = EXCLUDED.close, volume = EXCLUDED.volume,"
                " adjusted = EXCLUDED.adjusted, source = EXCLUDED.source, run_id = EXCLUDED.run_id"
                " WHERE (t.open, t.high, t.low, t.close, t.volume, t.adjusted, t.source)"
                " IS DISTINCT FROM (EXCLUDED.open, EXCLUDED.high, EXCLUDED.low, EXCLUDED.close, EXCLUDED.volume,"
                " EXCLUDED.adjusted, EXCLUDED.source)"
                " RETURNING (xmax = 0) AS is_new)"
                " SELECT count(*) FILTER (WHERE is_new), count(*) FILTER (WHERE NOT is_new) FROM merged"
            )
            merged_new, updated = cur.fetchone()
            inserted += merged_new
    result = LoadResult(inserted, updated, len(frame) - inserted - updated)
    log.info("price_bar: %d rows in, %s", len(frame), result.as_dict())
    return result


def latest_bars(conn, symbols: list[str], interval: str) -> list[dict]:
    """The most recent bar of each symbol in the ledger (index-only scan backwards per symbol)."""
    rows = conn.execute(
        "SELECT b.symbol, b.ts, b.close, b.source FROM unnest(%s::text[]) AS s(symbol)"
        " CROSS JOIN LATERAL (SELECT symbol, ts, close, source FROM price_bar"
        " WHERE symbol = s.symbol AND interval = %s ORDER BY ts DESC LIMIT 1) AS b ORDER BY b.symbol",
        (symbols, interval),
    ).fetchall()
    return [dict(zip(("symbol", "ts", "close", "source"), r, strict=True)) for r in rows]


def closes(conn, symbols: list[str], interval: str, start=None, end=None) -> pd.DataFrame:
    """Close prices as a long frame (symbol, ts, close), ordered by symbol then time."""
    rows = conn.execute(
        "SELECT symbol, ts, close FROM price_bar WHERE symbol = ANY(%s) AND interval = %s"
        " AND (%s::timestamptz IS NULL OR ts >= %s) AND (%s::timestamptz IS NULL OR ts <= %s)"
        " ORDER BY symbol, ts",
        (symbols, interval, start, start, end, end),
    ).fetchall()
    frame = pd.DataFrame(rows, columns=["symbol", "ts", "close"])
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    return frame


def latest_companies(conn, symbols: list[str] | None = None) -> list[Company]:
    """The newest snapshot of each company (all companies when ``symbols`` is None)."""
    rows = conn.execute(
        "SELECT DISTINCT ON (symbol) symbol, name, sector, industry, market_cap_usd, debt_to_equity, description"
        " FROM company_fundamentals WHERE %s::text[] IS NULL OR symbol = ANY(%s) ORDER BY symbol, as_of DESC",
        (symbols, symbols),
    ).fetchall()
    return [Company(*r) for r in rows]


EVENT_COLUMNS = (
    "event_id",
    "source",
    "symbol",
    "occurred_at",
    "title",
    "summary",
    "facts",
    "event_type",
    "impact",
    "sentiment",
)


def market_events(conn, event_ids: list[int] | None = None) -> list[dict]:
    """Events (all when ``event_ids`` is None), oldest id first."""
    rows = conn.execute(
        f"SELECT {', '.join(EVENT_COLUMNS)} FROM market_event"
        " WHERE %s::bigint[] IS NULL OR event_id = ANY(%s) ORDER BY event_id",
        (event_ids, event_ids),
    ).fetchall()
    return [dict(zip(EVENT_COLUMNS, r, strict=True)) for r in rows]


CORRELATION_COLUMNS = ("a", "b", "window", "as_of", "coefficient", "observations", "explanation")


def correlations(
    conn, *, window: int | None = None, as_ofs: list | None = None, symbols: list[str] | None = None
) -> list[dict]:
    """Stored correlations, optionally of one window, some as-of dates, and pairs within ``symbols``."""
    rows = conn.execute(
        "SELECT a, b, window_sessions, as_of, coefficient, observations, explanation FROM correlation"
        " WHERE (%s::int IS NULL OR window_sessions = %s) AND (%s::date[] IS NULL OR as_of = ANY(%s))"
        " AND (%s::text[] IS NULL OR (a = ANY(%s) AND b = ANY(%s))) ORDER BY as_of, a, b",
        (window, window, as_ofs, as_ofs, symbols, symbols, symbols),
    ).fetchall()
    return [dict(zip(CORRELATION_COLUMNS, r, strict=True)) for r in rows]
