"""``signal`` (divergences of correlated pairs with their pair statistics, an outbox for the stream),
``signal_evaluation`` (walk-forward evaluations of Axiom's signals) and ``signal_outcome`` (each evaluated
observation with the session its outcome ended: what the track record as of a date is read from)."""

from __future__ import annotations

from psycopg.types.json import Jsonb

from axiom.stores.ledger.db import transaction

SIGNAL_COLUMNS = (
    "a", "b", "session", "kind", "z", "coefficient", "beta", "moved", "return_a", "return_b", "close_a", "close_b",
    "trade", "stats",
)  # fmt: skip
NUMBER_COLUMNS = ("z", "coefficient", "beta", "return_a", "return_b", "close_a", "close_b")


def signal_id(signal: dict) -> str:
    """A signal's ledger id, its primary key as text (``CVX:XOM:2022-12-29:divergence``): what the stream
    records to send each signal once."""
    return f"{signal['a']}:{signal['b']}:{signal['session']}:{signal['kind']}"


def check(signal) -> dict:
    """The signal when it has the shape of a ``signal`` row as JSON carries it (every column; numbers where the row
    has numbers, text elsewhere), so a reader can use every field; otherwise ValueError saying what is wrong. A
    signal streamed before its pair statistics were kept (migration 015) has none: it reads with empty ``stats``."""
    if not isinstance(signal, dict):
        raise ValueError(f"a signal is a JSON object, not {type(signal).__name__}")
    signal = {**signal, "stats": signal.get("stats", {})}
    for column in SIGNAL_COLUMNS:
        value = signal.get(column)
        if column == "stats":
            if not isinstance(value, dict):
                raise ValueError(f"field 'stats' is {value!r}, not an object")
            continue
        number = column in NUMBER_COLUMNS
        if not (isinstance(value, int | float) and not isinstance(value, bool) if number else isinstance(value, str)):
            what = "missing" if column not in signal else f"{value!r}, not {'a number' if number else 'text'}"
            raise ValueError(f"field {column!r} is {what}")
    return signal


def record(conn, signals: list[dict]) -> int:
    """Keep signals; one already kept (same pair, session and kind) is left as it is. Return how many are new."""
    if not signals:
        return 0
    with transaction(conn), conn.cursor() as cur:
        cur.executemany(
            f"INSERT INTO signal ({', '.join(SIGNAL_COLUMNS)})"
            f" VALUES ({', '.join(['%s'] * len(SIGNAL_COLUMNS))}) ON CONFLICT (a, b, session, kind) DO NOTHING",
            [tuple(Jsonb(s.get(c) or {}) if c == "stats" else s[c] for c in SIGNAL_COLUMNS) for s in signals],
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


def between(conn, first, last) -> list[dict]:
    """The signals of the sessions from ``first`` to ``last``, oldest first."""
    rows = conn.execute(
        f"SELECT {', '.join(SIGNAL_COLUMNS)} FROM signal WHERE session BETWEEN %s AND %s ORDER BY session, a, b",
        (first, last),
    ).fetchall()
    return [dict(zip(SIGNAL_COLUMNS, r, strict=True)) for r in rows]


OUTCOME_COLUMNS = ("kind", "label", "subject", "signal_date", "value", "hit", "ended_on", "evaluation_key")


def store_evaluation(conn, key: str, *, kind: str, params: dict, results: dict, outcomes: list[dict]) -> int:
    """Keep evaluation ``key``'s results and replace the outcomes of ``kind`` with its ``outcomes`` (label,
    subject, signal_date, value, hit, ended_on each), in one transaction: a track record never mixes two
    evaluations. Returns how many outcomes were kept."""
    rows = [
        (kind, o["label"], o["subject"], o["signal_date"], float(o["value"]), bool(o["hit"]), o["ended_on"], key)
        for o in outcomes
    ]
    with transaction(conn), conn.cursor() as cur:
        cur.execute(
            "INSERT INTO signal_evaluation (evaluation_key, kind, params, results) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (evaluation_key) DO UPDATE SET results = EXCLUDED.results, evaluated_at = now()",
            (key, kind, Jsonb(params), Jsonb(results)),
        )
        cur.execute("DELETE FROM signal_outcome WHERE kind = %s", (kind,))
        cur.executemany(
            f"INSERT INTO signal_outcome ({', '.join(OUTCOME_COLUMNS)})"
            f" VALUES ({', '.join(['%s'] * len(OUTCOME_COLUMNS))}) ON CONFLICT DO NOTHING",
            rows,
        )
        return len(outcomes)


TRACK_RECORD_SQL = """
SELECT coalesce(label, 'all'), count(*), avg(value), coalesce(stddev_samp(value), 0), avg(hit::int),
       max(ended_on)
FROM signal_outcome WHERE kind = %(kind)s AND ended_on <= %(as_of)s
GROUP BY ROLLUP (label) HAVING count(*) > 0
"""


def track_record(conn, kind: str, *, as_of) -> dict:
    """How the evaluated signals of ``kind`` fared, per label and over all, from the outcomes that had ended
    by ``as_of`` only: n, mean, a 95% interval of the mean (normal), hit rate, and the newest outcome used."""
    out = {}
    for label, n, mean, sd, hit, last in conn.execute(TRACK_RECORD_SQL, {"kind": kind, "as_of": as_of}).fetchall():
        half = 1.96 * sd / n**0.5
        out[label] = {
            "n": n,
            "mean": round(mean, 6),
            "low": round(mean - half, 6),
            "high": round(mean + half, 6),
            "hit_rate": round(float(hit), 4),
            "last_ended": last.isoformat(),
        }
    return out


def latest_evaluation(conn, kind: str) -> dict | None:
    """The results of the newest evaluation of ``kind`` (``buy``, ``divergence``), or None before any."""
    row = conn.execute(
        "SELECT results FROM signal_evaluation WHERE kind = %s ORDER BY evaluated_at DESC LIMIT 1", (kind,)
    ).fetchone()
    return row[0] if row else None


def evaluated_at(conn) -> str | None:
    """When the newest evaluation was kept (part of a kept answer's data version: its track record)."""
    row = conn.execute("SELECT max(evaluated_at) FROM signal_evaluation").fetchone()
    return row[0].isoformat() if row and row[0] else None
