"""``insight``: every answer Axiom gave, under a hash of the question that asked it."""

from __future__ import annotations

from datetime import date

from psycopg.types.json import Jsonb

from axiom.stores.ledger.db import transaction


def find(conn, cache_key: str) -> dict | None:
    """The stored answer (JSON) of a question, if it was answered before."""
    row = conn.execute("SELECT answer FROM insight WHERE cache_key = %s", (cache_key,)).fetchone()
    return row[0] if row else None


def store(
    conn,
    cache_key: str,
    *,
    question: str,
    subject: str,
    params: dict,
    as_of: date,
    answer: dict,
    analyst: str,
    model: str,
    prompt_version: str,
    latency_ms: float,
) -> dict:
    """Keep an answer and return the one kept: a question already answered keeps its first answer (answers
    are point in time), so two first asks at once both get the answer that won, and cache that one."""
    with transaction(conn):
        row = conn.execute(
            "INSERT INTO insight (cache_key, question, subject, params, as_of, answer, analyst, model,"
            " prompt_version, latency_ms) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (cache_key) DO UPDATE SET cache_key = insight.cache_key RETURNING answer",
            (cache_key, question, subject, Jsonb(params), as_of, Jsonb(answer), analyst, model, prompt_version,
             latency_ms),
        ).fetchone()  # fmt: skip
    return row[0]
