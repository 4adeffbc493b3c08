"""``analyst_judgement``: every analyst answer under a hash of (analyst, model, prompt version,
task, input), so the same question again is read back, not asked."""

from __future__ import annotations

from typing import Any

from psycopg.types.json import Jsonb

from axiom.stores.ledger.db import transaction

LOOKUP_SQL = "SELECT cache_key, output FROM analyst_judgement WHERE cache_key = ANY(%s)"


def lookup(conn, keys: list[str]) -> dict[str, Any]:
    """The stored output of each key that has one."""
    if not keys:
        return {}
    return dict(conn.execute(LOOKUP_SQL, (keys,)))


def store(conn, rows: list[dict]) -> None:
    """Keep fresh answers: dicts with cache_key, task, analyst, model, prompt_version, input, output and,
    when known, input_tokens, output_tokens, latency_ms. A key already stored is left as it is."""
    if not rows:
        return
    with transaction(conn), conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO analyst_judgement (cache_key, task, analyst, model, prompt_version, input, output,"
            " input_tokens, output_tokens, latency_ms) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (cache_key) DO NOTHING",
            [
                (
                    r["cache_key"],
                    r["task"],
                    r["analyst"],
                    r["model"],
                    r["prompt_version"],
                    Jsonb(r["input"]),
                    Jsonb(r["output"]),
                    r.get("input_tokens"),
                    r.get("output_tokens"),
                    r.get("latency_ms"),
                )
                for r in rows
            ],
        )


def calls_today(conn, analyst: str) -> int:
    """How many answers ``analyst`` gave (and the ledger kept) since the start of today, UTC: what it spent."""
    return conn.execute(
        "SELECT count(*) FROM analyst_judgement WHERE analyst = %s AND created_at >= date_trunc('day', now() AT TIME"
        " ZONE 'UTC') AT TIME ZONE 'UTC'",
        (analyst,),
    ).fetchone()[0]
