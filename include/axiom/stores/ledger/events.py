"""``market_event`` (events from any source, keyed by (source, source_id), classified later) and
``market_event_sector_sensitivity`` (how strongly a macro event moved each sector)."""

from __future__ import annotations

from psycopg.types.json import Jsonb

from axiom.stores.ledger.db import transaction

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
_RAW = ("symbol", "occurred_at", "title", "summary", "facts")
_VERDICT = ("event_type", "impact", "sentiment", "analyst", "model", "prompt_version")


def upsert_events(conn, rows: list[dict], *, run_id: int) -> list[int]:
    """Upsert raw events on (source, source_id); a changed event loses its classification. Return their ids."""
    values = [
        (
            r["source"],
            r["source_id"],
            r.get("symbol"),
            r["occurred_at"],
            r["title"],
            r.get("summary", ""),
            Jsonb(r.get("facts", {})),
            run_id,
        )
        for r in rows
    ]
    with transaction(conn), conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO market_event (source, source_id, symbol, occurred_at, title, summary, facts, run_id)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
            f" ON CONFLICT (source, source_id) DO UPDATE SET {', '.join(f'{c} = EXCLUDED.{c}' for c in _RAW)},"
            f" run_id = EXCLUDED.run_id, {', '.join(f'{c} = NULL' for c in _VERDICT)}"
            f" WHERE ({', '.join(f'market_event.{c}' for c in _RAW)}) IS DISTINCT FROM"
            f" ({', '.join(f'EXCLUDED.{c}' for c in _RAW)})",
            values,
        )
        cur.execute(
            "SELECT m.event_id FROM market_event m JOIN unnest(%s::text[], %s::text[]) AS t(source, source_id)"
            " USING (source, source_id) ORDER BY m.event_id",
            ([r["source"] for r in rows], [r["source_id"] for r in rows]),
        )
        return [row[0] for row in cur.fetchall()]


def market_events(conn, event_ids: list[int] | None = None) -> list[dict]:
    """Events (all when ``event_ids`` is None), oldest id first."""
    ids = None if event_ids is None else list(event_ids)
    rows = conn.execute(
        f"SELECT {', '.join(EVENT_COLUMNS)} FROM market_event"
        " WHERE %s::bigint[] IS NULL OR event_id = ANY(%s) ORDER BY event_id",
        (ids, ids),
    ).fetchall()
    return [dict(zip(EVENT_COLUMNS, r, strict=True)) for r in rows]


def set_classifications(conn, verdicts: list[tuple[int, tuple]]) -> None:
    """Store each event's (event_type, impact, sentiment, analyst, model, prompt_version); unchanged ones stay."""
    with transaction(conn), conn.cursor() as cur:
        cur.executemany(
            f"UPDATE market_event SET {', '.join(f'{c} = %s' for c in _VERDICT)} WHERE event_id = %s"
            f" AND ({', '.join(_VERDICT)}) IS DISTINCT FROM ({', '.join(['%s'] * len(_VERDICT))})",
            [(*verdict, event_id, *verdict) for event_id, verdict in verdicts],
        )


def macro_events(conn, event_ids: list[int]) -> list[tuple[int, object]]:
    """(event_id, occurred_at) of the events among ``event_ids`` that name no company."""
    return conn.execute(
        "SELECT event_id, occurred_at FROM market_event WHERE event_id = ANY(%s) AND symbol IS NULL ORDER BY event_id",
        (list(event_ids),),
    ).fetchall()


def replace_sensitivities(conn, event_ids: list[int], rows: list[tuple]) -> int:
    """Replace the sector sensitivities of ``event_ids`` with ``rows`` (event_id, sector, sensitivity, observations)."""
    with transaction(conn), conn.cursor() as cur:
        cur.execute("DELETE FROM market_event_sector_sensitivity WHERE event_id = ANY(%s)", (list(event_ids),))
        cur.executemany(
            "INSERT INTO market_event_sector_sensitivity (event_id, sector, sensitivity, observations)"
            " VALUES (%s, %s, %s, %s)",
            rows,
        )
    return len(rows)


def sensitivities(conn, event_ids: list[int]) -> list[dict]:
    """The sector sensitivities of ``event_ids``."""
    rows = conn.execute(
        "SELECT event_id, sector, sensitivity, observations FROM market_event_sector_sensitivity"
        " WHERE event_id = ANY(%s) ORDER BY event_id, sector",
        (list(event_ids),),
    ).fetchall()
    return [dict(zip(("event_id", "sector", "sensitivity", "observations"), r, strict=True)) for r in rows]


def event_count(conn) -> int:
    return conn.execute("SELECT count(*) FROM market_event").fetchone()[0]


def count_on(conn, session) -> int:
    """How many events occurred on ``session`` (a UTC day)."""
    return conn.execute(
        "SELECT count(*) FROM market_event WHERE occurred_at >= %s::date AND occurred_at < %s::date + 1",
        (session, session),
    ).fetchone()[0]


FED_DECISIONS_SQL = (
    "SELECT event_id, occurred_at, title, facts FROM market_event WHERE event_type = 'fed_decision'"
    " AND occurred_at < %s ORDER BY occurred_at"
)


def fed_decisions(conn, before) -> list[dict]:
    """Every classified Federal Reserve decision strictly before the instant ``before``, oldest first."""
    rows = conn.execute(FED_DECISIONS_SQL, (before,)).fetchall()
    return [dict(zip(("event_id", "occurred_at", "title", "facts"), r, strict=True)) for r in rows]
