"""``company_fundamentals`` (dated snapshots of what a source said) and ``company_competitor``
(the analyst's competitors of each snapshot)."""

from __future__ import annotations

from datetime import date

from axiom.models import Company
from axiom.stores.ledger.db import transaction

FUNDAMENTAL_COLUMNS = (
    "symbol",
    "as_of",
    "name",
    "sector",
    "industry",
    "description",
    "market_cap_usd",
    "debt_to_equity",
    "source",
)
_VALUES = ("name", "sector", "industry", "description", "market_cap_usd", "debt_to_equity", "source")


def upsert_fundamentals(conn, rows: list[dict], *, run_id: int) -> int:
    """Upsert snapshots on (symbol, as_of); an unchanged snapshot is not rewritten."""
    with transaction(conn), conn.cursor() as cur:
        cur.executemany(
            f"INSERT INTO company_fundamentals ({', '.join(FUNDAMENTAL_COLUMNS)}, run_id)"
            f" VALUES ({', '.join(['%s'] * (len(FUNDAMENTAL_COLUMNS) + 1))})"
            f" ON CONFLICT (symbol, as_of) DO UPDATE SET {', '.join(f'{c} = EXCLUDED.{c}' for c in _VALUES)},"
            " run_id = EXCLUDED.run_id"
            f" WHERE ({', '.join(f'company_fundamentals.{c}' for c in _VALUES)}) IS DISTINCT FROM"
            f" ({', '.join(f'EXCLUDED.{c}' for c in _VALUES)})",
            [(*(r.get(c) for c in FUNDAMENTAL_COLUMNS), run_id) for r in rows],
        )
    return len(rows)


def latest_companies(conn, symbols: list[str] | None = None, *, as_of: date | None = None) -> list[Company]:
    """The newest snapshot of each company (all when ``symbols`` is None), taken on or before ``as_of``."""
    rows = conn.execute(
        "SELECT DISTINCT ON (symbol) symbol, name, sector, industry, market_cap_usd, debt_to_equity, description"
        " FROM company_fundamentals WHERE (%s::text[] IS NULL OR symbol = ANY(%s))"
        " AND (%s::date IS NULL OR as_of <= %s) ORDER BY symbol, as_of DESC",
        (symbols, symbols, as_of, as_of),
    ).fetchall()
    return [Company(*r) for r in rows]


def snapshot_dates(conn, symbols: list[str]) -> dict[str, date]:
    """The date of each company's newest snapshot."""
    rows = conn.execute(
        "SELECT symbol, max(as_of) FROM company_fundamentals WHERE symbol = ANY(%s) GROUP BY symbol", (list(symbols),)
    ).fetchall()
    return dict(rows)


def symbols(conn) -> list[str]:
    """Every company with a snapshot."""
    return [r[0] for r in conn.execute("SELECT DISTINCT symbol FROM company_fundamentals ORDER BY 1")]


def company_count(conn) -> int:
    return conn.execute("SELECT count(DISTINCT symbol) FROM company_fundamentals").fetchone()[0]


def replace_competitors(conn, rows: list[tuple], snapshots: dict[str, date]) -> int:
    """Replace the competitors of each (symbol, snapshot date) with ``rows``
    (symbol, competitor, as_of, intensity, rationale, analyst, model, prompt_version, run_id)."""
    with transaction(conn), conn.cursor() as cur:
        cur.execute(
            "DELETE FROM company_competitor c USING unnest(%s::text[], %s::date[]) AS t(symbol, as_of)"
            " WHERE c.symbol = t.symbol AND c.as_of = t.as_of",
            (list(snapshots), list(snapshots.values())),
        )
        cur.executemany(
            "INSERT INTO company_competitor (symbol, competitor, as_of, intensity, rationale, analyst, model,"
            " prompt_version, run_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            rows,
        )
    return len(rows)


def competing_pairs(conn, symbols: list[str]) -> list[dict]:
    """Each competing pair once (a < b), from the companies' latest snapshots; the stronger judgement wins."""
    rows = conn.execute(
        "WITH latest AS (SELECT symbol, max(as_of) AS as_of FROM company_competitor GROUP BY symbol)"
        " SELECT least(c.symbol, c.competitor) AS a, greatest(c.symbol, c.competitor) AS b, max(c.intensity),"
        " (array_agg(c.analyst ORDER BY c.intensity DESC))[1], max(c.as_of)"
        " FROM company_competitor c JOIN latest l USING (symbol, as_of)"
        " WHERE c.symbol = ANY(%s) OR c.competitor = ANY(%s) GROUP BY 1, 2 ORDER BY 1, 2",
        (list(symbols), list(symbols)),
    ).fetchall()
    return [{"a": a, "b": b, "intensity": i, "analyst": an, "as_of": d} for a, b, i, an, d in rows]
