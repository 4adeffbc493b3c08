"""``price_bar``: daily and intraday bars, and the reads every reader of prices shares.

Bars are upserted on their natural key (symbol, interval, ts): a batch whose keys cannot exist
yet (no bar of that symbol and interval in its time span) is COPYed straight in; otherwise it is
COPYed into a temporary stage and merged with ``INSERT ... ON CONFLICT DO UPDATE ... WHERE IS
DISTINCT FROM``, so a re-run rewrites nothing. Reads take an inclusive ``until`` date, so a
reader bound to an as-of date never sees a later bar.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import pandas as pd

from axiom.stores.ledger.db import copy_rows, transaction

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


@dataclass(frozen=True)
class Rebase:
    """The provider re-based a symbol's history (a split or a dividend): every bar up to ``through`` is
    multiplied by ``factor`` (prices) and ``volume_factor`` (volume), as the provider now quotes them."""

    symbol: str
    interval: str
    through: datetime
    factor: float
    volume_factor: float = 1.0


@dataclass(frozen=True)
class LoadResult:
    """What a bar load did: rows new to the ledger, rows whose values changed, rows already there."""

    inserted: int
    updated: int
    unchanged: int

    def as_dict(self) -> dict[str, int]:
        return {"inserted": self.inserted, "updated": self.updated, "unchanged": self.unchanged}


def load_bars(
    conn, bars: pd.DataFrame, *, run_id: int, source: str, adjusted: bool, rebases: tuple[Rebase, ...] = ()
) -> LoadResult:
    """Upsert validated bars in one transaction, after re-basing the history of ``rebases``; return how many
    bars were inserted, updated, unchanged."""
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
        for r in rebases:
            cur.execute(
                "UPDATE price_bar SET open = open * %s, high = high * %s, low = low * %s, close = close * %s,"
                " volume = round(volume * %s), run_id = %s WHERE symbol = %s AND interval = %s AND ts <= %s",
                (r.factor, r.factor, r.factor, r.factor, r.volume_factor, run_id, r.symbol, r.interval, r.through),
            )
            log.warning(
                "price_bar: %s re-based: %d bars through %s times %.6g", r.symbol, cur.rowcount, r.through, r.factor
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


def utc_midnight(day: date) -> datetime:
    """A date as the instant its daily bar is keyed by (00:00 UTC), whatever the session's time zone."""
    return datetime.combine(day, time(), tzinfo=UTC)


def latest_bars(conn, symbols: list[str], interval: str = "1d") -> list[dict]:
    """The most recent bar of each symbol in the ledger (index-only scan backwards per symbol)."""
    rows = conn.execute(
        "SELECT b.symbol, b.ts, b.close, b.source, b.adjusted FROM unnest(%s::text[]) AS s(symbol)"
        " CROSS JOIN LATERAL (SELECT symbol, ts, close, source, adjusted FROM price_bar"
        " WHERE symbol = s.symbol AND interval = %s ORDER BY ts DESC LIMIT 1) AS b ORDER BY b.symbol",
        (list(symbols), interval),
    ).fetchall()
    return [dict(zip(("symbol", "ts", "close", "source", "adjusted"), r, strict=True)) for r in rows]


def closes_before(conn, sessions: dict[str, date], interval: str = "1d") -> dict[str, tuple[date, float]]:
    """Each symbol's last (session, close) before its given session (a backward index probe per symbol); a symbol
    without an earlier bar is left out. What a price's change is measured against."""
    symbols = sorted(sessions)
    rows = conn.execute(
        "SELECT s.symbol, b.ts, b.close FROM unnest(%s::text[], %s::timestamptz[]) AS s(symbol, until)"
        " CROSS JOIN LATERAL (SELECT ts, close FROM price_bar WHERE symbol = s.symbol AND interval = %s"
        " AND ts < s.until ORDER BY ts DESC LIMIT 1) AS b",
        (symbols, [utc_midnight(sessions[s]) for s in symbols], interval),
    ).fetchall()
    return {symbol: (ts.astimezone(UTC).date(), float(close)) for symbol, ts, close in rows}


CLOSES_SQL = (
    "SELECT symbol, ts, close FROM price_bar WHERE symbol = ANY(%s) AND interval = %s"
    " AND (%s::timestamptz IS NULL OR ts >= %s) AND (%s::timestamptz IS NULL OR ts < %s) ORDER BY symbol, ts"
)


def closes(
    conn, symbols: list[str], *, interval: str = "1d", since: date | None = None, until: date | None = None
) -> pd.DataFrame:
    """Close prices as a long frame (symbol, ts, close) of the bars dated ``since`` to ``until`` inclusive."""
    rows = conn.execute(CLOSES_SQL, (list(symbols), interval, *_bound(since, 0), *_bound(until, 1))).fetchall()
    frame = pd.DataFrame(rows, columns=["symbol", "ts", "close"])
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    return frame


# one row per symbol: its bars in order, each packed as 16 bytes (PostgreSQL's binary timestamptz, big-endian int64
# microseconds since 2000-01-01, then the float8 close), which numpy reads in place: no Python object per bar
CLOSE_TABLE_SQL = (
    "SELECT symbol, string_agg(timestamptz_send(ts) || float8send(close), ''::bytea ORDER BY ts)"
    " FROM price_bar WHERE symbol = ANY(%s) AND interval = %s"
    " AND (%s::timestamptz IS NULL OR ts >= %s) AND (%s::timestamptz IS NULL OR ts < %s)"
    " GROUP BY symbol ORDER BY symbol"
)
_PACKED_BAR = np.dtype([("ts", ">i8"), ("close", ">f8")])
_POSTGRES_EPOCH_US = 946_684_800_000_000  # 2000-01-01T00:00Z in microseconds since 1970-01-01


def close_table(
    conn, symbols: list[str], *, interval: str = "1d", since: date | None = None, until: date | None = None
) -> pd.DataFrame:
    """Close prices as sessions x symbols, of the bars dated ``since`` to ``until`` inclusive: the union of the
    symbols' sessions in order (UTC index ``ts``), a column per symbol that has a bar (sorted), NaN where a
    symbol has no bar that session. What the questions and the alerts compute on, read in one round trip."""
    rows = conn.execute(CLOSE_TABLE_SQL, (list(symbols), interval, *_bound(since, 0), *_bound(until, 1))).fetchall()
    bars = np.frombuffer(b"".join(packed for _, packed in rows), dtype=_PACKED_BAR)
    column = np.repeat(np.arange(len(rows)), [len(packed) // _PACKED_BAR.itemsize for _, packed in rows])
    sessions, row = np.unique(bars["ts"].astype(np.int64), return_inverse=True)
    table = np.full((len(sessions), len(rows)), np.nan)
    table[row, column] = bars["close"]
    index = pd.DatetimeIndex(pd.to_datetime(sessions + _POSTGRES_EPOCH_US, unit="us", utc=True), name="ts")
    return pd.DataFrame(table, index=index, columns=pd.Index([symbol for symbol, _ in rows], name="symbol"))


def bars(conn, symbols: list[str], *, interval: str, since: datetime, until: datetime) -> pd.DataFrame:
    """Stored bars (symbol, interval, ts, close, volume) of ``symbols`` with ``since <= ts <= until``."""
    rows = conn.execute(
        "SELECT symbol, interval, ts, close, volume FROM price_bar WHERE symbol = ANY(%s) AND interval = %s"
        " AND ts BETWEEN %s AND %s ORDER BY symbol, ts",
        (list(symbols), interval, since, until),
    ).fetchall()
    frame = pd.DataFrame(rows, columns=["symbol", "interval", "ts", "close", "volume"])
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    return frame


SESSION_SPAN_SQL = "SELECT min(ts), max(ts) FROM price_bar WHERE interval = '1d' AND (%s::text IS NULL OR symbol = %s)"


def session_span(conn, symbol: str | None = None) -> tuple[date, date] | None:
    """The first and last session with a daily bar (of ``symbol``, or of any symbol); None when there is none."""
    first, last = conn.execute(SESSION_SPAN_SQL, (symbol, symbol)).fetchone()
    return None if first is None else (first.astimezone(UTC).date(), last.astimezone(UTC).date())


def _bound(day: date | None, days_after: int) -> tuple:
    instant = None if day is None else utc_midnight(day + timedelta(days=days_after))
    return instant, instant


# of one symbol: a backward scan of its primary-key range, one row per session
SYMBOL_SESSIONS_SQL = (
    "SELECT ts FROM price_bar WHERE symbol = %(symbol)s AND interval = '1d' AND ts < %(until)s"
    " ORDER BY ts DESC LIMIT %(count)s"
)
# of any symbol: a skip scan over (interval, ts), one index probe per session however many symbols trade
# on it (a DISTINCT over the index read every bar of every session: 500 symbols, 500 entries a session)
LAST_SESSIONS_SQL = (
    "WITH RECURSIVE s(ts, n) AS ((SELECT max(ts), 1 FROM price_bar WHERE interval = '1d' AND ts < %(until)s)"
    " UNION ALL SELECT (SELECT max(b.ts) FROM price_bar b WHERE b.interval = '1d' AND b.ts < s.ts), s.n + 1"
    " FROM s WHERE s.ts IS NOT NULL AND s.n < %(count)s) SELECT ts FROM s WHERE ts IS NOT NULL ORDER BY ts DESC"
)
NEXT_SESSIONS_SQL = (
    "WITH RECURSIVE s(ts, n) AS ((SELECT min(ts), 1 FROM price_bar WHERE interval = '1d' AND ts >= %(since)s"
    " AND ts < %(until)s) UNION ALL SELECT (SELECT min(b.ts) FROM price_bar b WHERE b.interval = '1d'"
    " AND b.ts > s.ts AND b.ts < %(until)s), s.n + 1 FROM s WHERE s.ts IS NOT NULL AND s.n < %(count)s)"
    " SELECT ts FROM s WHERE ts IS NOT NULL ORDER BY ts"
)


def last_sessions(conn, until: date, count: int, symbol: str | None = None) -> list[date]:
    """The last ``count`` sessions on or before ``until`` (of ``symbol``, or of any symbol), oldest first."""
    sql = LAST_SESSIONS_SQL if symbol is None else SYMBOL_SESSIONS_SQL
    rows = conn.execute(sql, {"until": utc_midnight(until + timedelta(days=1)), "symbol": symbol, "count": count})
    return [r[0].astimezone(UTC).date() for r in rows.fetchall()][::-1]


def next_sessions(conn, since: date, count: int, *, until: date) -> list[date]:
    """The first ``count`` sessions of any symbol from ``since`` to ``until`` inclusive, oldest first."""
    params = {"since": utc_midnight(since), "until": utc_midnight(until + timedelta(days=1)), "count": count}
    return [r[0].astimezone(UTC).date() for r in conn.execute(NEXT_SESSIONS_SQL, params).fetchall()]


# a skip scan over the primary key: one index probe per symbol instead of reading every bar
SYMBOLS_SQL = (
    "WITH RECURSIVE s(symbol) AS ((SELECT symbol FROM price_bar WHERE interval = %(interval)s ORDER BY symbol LIMIT 1)"
    " UNION ALL SELECT (SELECT b.symbol FROM price_bar b WHERE b.interval = %(interval)s AND b.symbol > s.symbol"
    " ORDER BY b.symbol LIMIT 1) FROM s WHERE s.symbol IS NOT NULL)"
    " SELECT symbol FROM s WHERE symbol IS NOT NULL ORDER BY 1"
)


def bar_count_on(conn, session: date) -> int:
    """How many daily bars the ledger holds of ``session``."""
    return conn.execute(
        "SELECT count(*) FROM price_bar WHERE interval = '1d' AND ts = %s", (utc_midnight(session),)
    ).fetchone()[0]


def symbols(conn, interval: str = "1d") -> list[str]:
    """Every symbol with bars of ``interval`` in the ledger, sorted."""
    return [r[0] for r in conn.execute(SYMBOLS_SQL, {"interval": interval})]


def forward_closes(conn, starts: list[tuple[str, date]], horizon: int) -> list[tuple[int, float, date, float]]:
    """For each (symbol, day): (position, close on the first session at or after day, the session
    ``horizon`` sessions later, its close), in one query; a start without that many sessions is left out."""
    if not starts:
        return []
    rows = conn.execute(
        "SELECT m.i, s.close, f.ts, f.close"
        " FROM unnest(%s::text[], %s::timestamptz[]) WITH ORDINALITY AS m(symbol, day, i)"
        " CROSS JOIN LATERAL (SELECT close FROM price_bar WHERE symbol = m.symbol AND interval = '1d'"
        "  AND ts >= m.day ORDER BY ts LIMIT 1) s"
        " CROSS JOIN LATERAL (SELECT ts, close FROM price_bar WHERE symbol = m.symbol AND interval = '1d'"
        "  AND ts >= m.day ORDER BY ts OFFSET %s LIMIT 1) f ORDER BY m.i",
        ([s for s, _ in starts], [utc_midnight(d) for _, d in starts], horizon),
    ).fetchall()
    return [(i - 1, start, ts.date(), end) for i, start, ts, end in rows]


# one window per symbol and ISO week whose last session has `window` returns to it that are not all equal
_PATTERN_WINDOWS_SQL = (
    "SELECT count(*) FROM (SELECT i, sd, row_number() OVER (PARTITION BY symbol, week ORDER BY ts DESC) AS nth"
    " FROM (SELECT symbol, ts, to_char(ts AT TIME ZONE 'UTC', 'IYYY-IW') AS week,"
    " row_number() OVER (PARTITION BY symbol ORDER BY ts) - 1 AS i,"
    " stddev_pop(r) OVER (PARTITION BY symbol ORDER BY ts ROWS BETWEEN %(back)s PRECEDING AND CURRENT ROW) AS sd"
    " FROM (SELECT symbol, ts, close / lag(close) OVER (PARTITION BY symbol ORDER BY ts) - 1 AS r"
    " FROM price_bar WHERE interval = '1d') returns) windows) weeks"
    " WHERE nth = 1 AND i >= %(window)s AND sd > 1e-12"
)


def pattern_window_count(conn, window: int) -> int:
    """How many weekly price-pattern windows the daily bars imply, counted by SQL alone."""
    return conn.execute(_PATTERN_WINDOWS_SQL, {"window": window, "back": window - 1}).fetchone()[0]
