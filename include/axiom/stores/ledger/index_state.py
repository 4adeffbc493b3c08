"""``index_state``: per Chroma collection, the newest run of its pipeline that the semantic index
has verified, and what the collection held then."""

from __future__ import annotations

from dataclasses import dataclass

from psycopg.types.json import Jsonb

from axiom.stores.ledger.db import transaction


@dataclass(frozen=True)
class IndexState:
    verified_run: int
    ledger_count: int
    changes: dict


def get(conn, collection: str) -> IndexState | None:
    row = conn.execute(
        "SELECT verified_run, ledger_count, changes FROM index_state WHERE collection = %s", (collection,)
    ).fetchone()
    return IndexState(*row) if row else None


def record(conn, collection: str, *, verified_run: int, ledger_count: int, changes: dict) -> None:
    with transaction(conn):
        conn.execute(
            "INSERT INTO index_state (collection, verified_run, ledger_count, changes) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (collection) DO UPDATE SET verified_run = EXCLUDED.verified_run,"
            " ledger_count = EXCLUDED.ledger_count, changes = EXCLUDED.changes, indexed_at = now()",
            (collection, verified_run, ledger_count, Jsonb(changes)),
        )
