"""Versioned, idempotent schema for the ledger (PostgreSQL) and the graph (Neo4j).

PostgreSQL migrations are ``sql/NNN_name.sql`` files applied once each, in order, under an
advisory lock and recorded in ``schema_migration``. Cypher files hold ``IF NOT EXISTS``
statements and are safe to run every time. Redis key families renamed since an older version are
moved to their new names (``axiom.stores.cache``). Chroma collections are created on first use by
``axiom.stores.vectors`` with an explicit embedding function.
"""

from __future__ import annotations

import logging
from pathlib import Path

from axiom.stores import cache, ledger

log = logging.getLogger(__name__)

SQL_DIR = Path(__file__).parent / "sql"
CYPHER_DIR = Path(__file__).parent / "cypher"


def migrate_postgres(conn) -> list[str]:
    """Apply the SQL migrations not yet applied; return the versions applied now."""
    applied_now: list[str] = []
    with ledger.db.transaction(conn):
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('axiom.schema_migration'))")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migration ("
            " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {row[0] for row in conn.execute("SELECT version FROM schema_migration")}
        for path in sorted(SQL_DIR.glob("*.sql")):
            if path.stem in done:
                continue
            log.info("applying migration %s", path.name)
            conn.execute(path.read_text())
            conn.execute("INSERT INTO schema_migration (version) VALUES (%s)", (path.stem,))
            applied_now.append(path.stem)
    return applied_now


def cypher_statements(path: Path) -> list[str]:
    """The statements of a Cypher file: ``;``-separated, ``//`` comment lines dropped."""
    text = "\n".join(line for line in path.read_text().splitlines() if not line.strip().startswith("//"))
    return [stmt.strip() for stmt in text.split(";") if stmt.strip()]


def migrate_neo4j(driver) -> int:
    """Run every Cypher schema statement (all idempotent); return how many ran."""
    statements = [s for path in sorted(CYPHER_DIR.glob("*.cypher")) for s in cypher_statements(path)]
    with driver.session() as session:
        for statement in statements:
            session.run(statement).consume()
    return len(statements)


def migrate_redis(client) -> int:
    """Move keys of renamed families to their new names; return how many moved."""
    return cache.migrate_keys(client)
