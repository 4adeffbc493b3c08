"""``correlation``: strong pairs (a < b) per window and as-of session, a time series; the latest
as-of's pairs carry the analyst's explanation. (``"window"`` is quoted: it is an SQL keyword.)"""

from __future__ import annotations

from datetime import date

from axiom.stores.ledger.db import transaction

CORRELATION_COLUMNS = ("a", "b", "window", "as_of", "coefficient", "observations", "explanation")
_EXPLAINED_BY = ("explanation", "analyst", "model", "prompt_version")


def replace_significant(conn, rows: list[tuple], *, window: int, as_ofs: list[date], symbols: list[str]) -> int:
    """Store ``rows`` (a, b, window, as_of, coefficient, observations, run_id) for these as-of dates;
    pairs of ``symbols`` no longer significant on them are dropped. Return how many were dropped."""
    with transaction(conn), conn.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE correlation_now (a text, b text, as_of date, PRIMARY KEY (a, b, as_of)) ON COMMIT DROP"
        )
        cur.executemany(
            "INSERT INTO correlation_now (a, b, as_of) VALUES (%s, %s, %s)", [(r[0], r[1], r[3]) for r in rows]
        )
        cur.execute(
            'DELETE FROM correlation c WHERE c."window" = %s AND c.as_of = ANY(%s) AND c.a = ANY(%s)'
            " AND c.b = ANY(%s) AND NOT EXISTS (SELECT 1 FROM correlation_now n"
            " WHERE n.a = c.a AND n.b = c.b AND n.as_of = c.as_of)",
            (window, list(as_ofs), list(symbols), list(symbols)),
        )
        dropped = cur.rowcount
        cur.executemany(
            'INSERT INTO correlation (a, b, "window", as_of, coefficient, observations, run_id)'
            " VALUES (%s, %s, %s, %s, %s, %s, %s)"
            ' ON CONFLICT (a, b, "window", as_of) DO UPDATE SET coefficient = EXCLUDED.coefficient,'
            " observations = EXCLUDED.observations, run_id = EXCLUDED.run_id"
            " WHERE (correlation.coefficient, correlation.observations)"
            " IS DISTINCT FROM (EXCLUDED.coefficient, EXCLUDED.observations)",
            rows,
        )
    return dropped


def correlations(
    conn, *, window: int | None = None, as_ofs: list[date] | None = None, symbols: list[str] | None = None
) -> list[dict]:
    """Stored correlations, optionally of one window, some as-of dates, and pairs within ``symbols``."""
    as_ofs = None if as_ofs is None else list(as_ofs)
    symbols = None if symbols is None else list(symbols)
    rows = conn.execute(
        'SELECT a, b, "window", as_of, coefficient, observations, explanation FROM correlation'
        ' WHERE (%s::int IS NULL OR "window" = %s) AND (%s::date[] IS NULL OR as_of = ANY(%s))'
        " AND (%s::text[] IS NULL OR (a = ANY(%s) AND b = ANY(%s))) ORDER BY as_of, a, b",
        (window, window, as_ofs, as_ofs, symbols, symbols, symbols),
    ).fetchall()
    return [dict(zip(CORRELATION_COLUMNS, r, strict=True)) for r in rows]


def set_explanations(conn, explained: list[tuple[dict, tuple]]) -> None:
    """Store (explanation, analyst, model, prompt_version) on each stored pair; unchanged ones stay."""
    with transaction(conn), conn.cursor() as cur:
        cur.executemany(
            f"UPDATE correlation SET {', '.join(f'{c} = %s' for c in _EXPLAINED_BY)}"
            ' WHERE a = %s AND b = %s AND "window" = %s AND as_of = %s'
            f" AND ({', '.join(_EXPLAINED_BY)}) IS DISTINCT FROM (%s, %s, %s, %s)",
            [(*why, r["a"], r["b"], r["window"], r["as_of"], *why) for r, why in explained],
        )


def as_of_dates(conn) -> dict[int, list[date]]:
    """Every window's as-of dates, oldest first."""
    rows = conn.execute(
        'SELECT "window", array_agg(DISTINCT as_of ORDER BY as_of) FROM correlation GROUP BY "window"'
    ).fetchall()
    return dict(rows)


# the newest matrix of ``window`` on or before the as-of (a backward probe of the (window, as_of) index),
# then the symbol's pairs in it (that matrix's rows by the same index, filtered: at 500 synthetic symbols
# EXPLAIN ANALYZE showed 163 rows and 0.2 ms, no faster with indexes on a and b, so there are none);
# one row with NULLs when the symbol has no strong pair there, and a NULL date when there is no matrix
PAIRS_OF_SQL = (
    'WITH newest AS (SELECT max(as_of) AS as_of FROM correlation WHERE "window" = %(window)s AND as_of <= %(as_of)s)'
    " SELECT n.as_of, p.a, p.b, p.coefficient, p.observations FROM newest n LEFT JOIN LATERAL"
    " (SELECT a, b, coefficient, observations FROM correlation"
    '  WHERE "window" = %(window)s AND as_of = n.as_of AND (a = %(symbol)s OR b = %(symbol)s)'
    "  ORDER BY abs(coefficient) DESC, a, b LIMIT %(limit)s) p ON true"
)


def pairs_of(conn, symbol: str, *, window: int, as_of: date, limit: int) -> tuple[date | None, list[dict]]:
    """The strongest stored pairs of ``symbol`` in the newest ``window`` matrix dated on or before ``as_of``:
    (that matrix's date or None, [{symbol, coefficient, window, observations}] strongest first)."""
    rows = conn.execute(PAIRS_OF_SQL, {"window": window, "as_of": as_of, "symbol": symbol, "limit": limit}).fetchall()
    pairs = [
        {"symbol": b if a == symbol else a, "coefficient": coefficient, "window": window, "observations": observations}
        for _, a, b, coefficient, observations in rows
        if a is not None
    ]
    return rows[0][0], pairs


# each pair's first strong session of each calendar month (the pair-month's one document in Chroma), with the
# month of the pair's previous pair-month (whose document's vector a new one reuses when their texts agree):
# a live evening adds a document for a pair only when it is first strong in a month, not every session
PAIR_MONTHS_SQL = (
    "SELECT f.*, (SELECT date_trunc('month', max(p.as_of))::date FROM correlation p"
    '  WHERE p.a = f.a AND p.b = f.b AND p."window" = f."window" AND p.as_of < f.month) AS previous'
    " FROM (SELECT DISTINCT ON (a, b, \"window\", date_trunc('month', as_of))"
    "  a, b, \"window\", date_trunc('month', as_of)::date AS month, as_of, coefficient, observations, explanation"
    "  FROM correlation"
    '  WHERE (%(window)s::int IS NULL OR "window" = %(window)s)'
    "  AND (%(months)s::date[] IS NULL OR (as_of >= %(first)s AND as_of < %(last)s::date + interval '1 month'"
    "   AND date_trunc('month', as_of)::date = ANY(%(months)s)))"
    "  AND (%(symbols)s::text[] IS NULL OR (a = ANY(%(symbols)s) AND b = ANY(%(symbols)s)))"
    "  ORDER BY a, b, \"window\", date_trunc('month', as_of), as_of) f"
    " ORDER BY f.month, f.a, f.b"
)


def pair_months(
    conn, *, window: int | None = None, months: list[date] | None = None, symbols: list[str] | None = None
) -> list[dict]:
    """Each pair's first strong row of each calendar month (``month``: its first day), with ``previous``, the
    first day of the pair's previous month with a strong row (None when there is none); optionally of one
    window, some months (any day of each) and pairs within ``symbols``."""
    months = None if months is None else sorted({d.replace(day=1) for d in months})
    rows = conn.execute(
        PAIR_MONTHS_SQL,
        {
            "window": window,
            "months": months,
            "first": months[0] if months else None,
            "last": months[-1] if months else None,
            "symbols": None if symbols is None else list(symbols),
        },
    ).fetchall()
    columns = ("a", "b", "window", "month", "as_of", "coefficient", "observations", "explanation", "previous")
    return [dict(zip(columns, r, strict=True)) for r in rows]


def pair_month_count(conn) -> int:
    """How many pair-months ``pair_months`` gives over the whole table."""
    return conn.execute(
        "SELECT count(*) FROM (SELECT DISTINCT a, b, \"window\", date_trunc('month', as_of) FROM correlation) m"
    ).fetchone()[0]
