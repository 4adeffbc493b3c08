"""``sector_momentum``: each sector's equal-weight returns, relative strength and rotation score per
session (``axiom.analytics.sectors``), derived from ``price_bar`` and the companies' sectors."""

from __future__ import annotations

from datetime import date

import pandas as pd

from axiom.analytics.sectors import COLUMNS
from axiom.stores.ledger.db import copy_rows, transaction

TABLE_COLUMNS = ("session", "sector", *COLUMNS, "run_id")


def replace_from(conn, history: pd.DataFrame, *, since: date | None, run_id: int) -> int:
    """Replace the rows from ``since`` on (all rows when None) with ``history`` (indexed by session and
    sector, as ``sector_history`` gives it; sectors without a member that session are left out)."""
    frame = history[history["members"] > 0].reset_index()
    frame["session"] = pd.to_datetime(frame["session"], utc=True).dt.date
    frame["run_id"] = run_id
    with transaction(conn), conn.cursor() as cur:
        cur.execute("DELETE FROM sector_momentum WHERE %s::date IS NULL OR session >= %s", (since, since))
        if len(frame):
            copy_rows(cur, "sector_momentum", frame, TABLE_COLUMNS)
    return len(frame)


def newest_session(conn) -> date | None:
    return conn.execute("SELECT max(session) FROM sector_momentum").fetchone()[0]


AT_SQL = f"SELECT session, sector, {', '.join(COLUMNS)} FROM sector_momentum WHERE session = ANY(%s) ORDER BY 1, 2"


SINCE_SQL = (
    f"SELECT session, sector, {', '.join(COLUMNS)} FROM sector_momentum"
    " WHERE %(since)s::date IS NULL OR session >= %(since)s ORDER BY 1, 2"
)


def since(conn, day: date | None) -> pd.DataFrame:
    """The rows from ``day`` on (every row when None), indexed by (session, sector)."""
    rows = conn.execute(SINCE_SQL, {"since": day}).fetchall()
    return pd.DataFrame(rows, columns=["session", "sector", *COLUMNS]).set_index(["session", "sector"])


def at(conn, sessions: list[date]) -> list[dict]:
    """The rows of these sessions, by session then sector: a dict each (session, sector and ``COLUMNS``). A
    question reads a dozen rows: plain dicts, not a frame."""
    cur = conn.execute(AT_SQL, (list(sessions),))
    names = [c.name for c in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
