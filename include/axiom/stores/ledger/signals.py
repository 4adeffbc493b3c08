"""``signal`` (divergences of correlated pairs, an outbox for the stream) and
``signal_evaluation`` (walk-forward evaluations of Axiom's signals)."""

from __future__ import annotations

from psycopg.types.json import Jsonb

from axiom.stores.ledger.db import transaction

SIGNAL_COLUMNS = (
    "a", "b", "session", "kind", "z", "coefficient", "beta", "moved", "return_a", "return_b", "close_a", "close_b",
    "trade",
)  # fmt: skip


def record(conn, signals: list[dict]) -> int:
    """Keep signals; one already kept (same pair, session and kind) is left as it is. Return how many are new."""
    if not signals:
        return 0
    with transaction(conn), conn.cursor() as cur:
        cur.executemany(
            f"INSERT INTO signal ({', '.join(SIGNAL_COLUMNS)})"
            f" VALUES ({', '.join(['%s'] * len(SIGNAL_COLUMNS))}) ON CONFLICT (a, b, session, kind) DO NOTHING",
            [tuple(s[c] for c in SIGNAL_COLUMNS) for s in signals],
        )
        return cur.rowcount


def unstreamed(conn) -> list[dict]:
    """Signals not yet written to the stream, oldest first."""
    rows = conn.execute(
        f"SELECT {', '.join(SIGNAL_COLUMNS)} FROM signal WHERE streamed_at IS NULL ORDER BY created_at, a, b"
    ).fetchall()
    return [dict(zip(SIGNAL_COLUMNS, r, strict=True)) for r in rows]


def mark_streamed(conn, signals: list[dict]) -> None:
    with transaction(conn), conn.cursor() as cur:
        cur.executemany(
            "UPDATE signal SET streamed_at = now() WHERE a = %s AND b = %s AND session = %s AND kind = %s",
            [(s["a"], s["b"], s["session"], s["kind"]) for s in signals],
        )


def latest(conn, limit: int = 10) -> list[dict]:
    """The newest signals."""
    rows = conn.execute(
        f"SELECT {', '.join(SIGNAL_COLUMNS)} FROM signal ORDER BY session DESC, a, b LIMIT %s", (limit,)
    ).fetchall()
    return [dict(zip(SIGNAL_COLUMNS, r, strict=True)) for r in rows]


def store_evaluation(conn, key: str, *, kind: str, params: dict, results: dict) -> None:
    with transaction(conn):
        conn.execute(
            "INSERT INTO signal_evaluation (evaluation_key, kind, params, results) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (evaluation_key) DO UPDATE SET results = EXCLUDED.results, evaluated_at = now()",
            (key, kind, Jsonb(params), Jsonb(results)),
        )
