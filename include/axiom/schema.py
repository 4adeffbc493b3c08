"""Versioned, idempotent schema for the ledger (PostgreSQL) and the graph (Neo4j).

PostgreSQL migrations are ``sql/NNN_name.sql`` files applied once each, in order, under an
advisory lock and recorded in ``schema_migration``. Cypher files hold ``IF NOT EXISTS``
constraints and are safe to run every time. Names the projections store that a later version
renamed (Redis key families, Neo4j properties) are rewritten once per ledger and recorded in the
same table: a store filled after a rename holds no old name, so nothing scans Redis or the graph
at the start of every run. Chroma collections are created on first use by ``axiom.stores.vectors``
with an explicit embedding function.
"""

from __future__ import annotations

import logging
from pathlib import Path

from axiom.stores import cache, graph, ledger

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


# version -> (the client it takes, the rename): recorded in ``schema_migration`` beside the SQL files
PROJECTION_RENAMES = {
    "010_one_name_per_concept.redis": ("redis_client", cache.rename_recent_event_keys),
    "010_one_name_per_concept.neo4j": ("driver", graph.rename_properties),
}


def migrate_projections(conn, *, redis_client, driver) -> list[str]:
    """Apply the projection renames the ledger has not recorded (after ``migrate_postgres``); return the
    versions applied now. Once all are recorded this is one ledger read."""
    clients = {"redis_client": redis_client, "driver": driver}
    applied_now: list[str] = []
    with ledger.db.transaction(conn):
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('axiom.schema_migration'))")
        done = {row[0] for row in conn.execute("SELECT version FROM schema_migration")}
        for version, (client, rename) in PROJECTION_RENAMES.items():
            if version in done:
                continue
            log.info("applying migration %s: %d renamed", version, rename(clients[client]))
            conn.execute("INSERT INTO schema_migration (version) VALUES (%s)", (version,))
            applied_now.append(version)
    return applied_now


def migrate(conn, *, redis_client, driver) -> dict:
    """Everything above, in order: what a pipeline's opening task and ``python -m axiom migrate`` apply (quick once
    applied: the ledger's record read twice, the graph's idempotent constraints)."""
    return {
        "postgres": migrate_postgres(conn),
        "neo4j": migrate_neo4j(driver),
        "projections": migrate_projections(conn, redis_client=redis_client, driver=driver),
    }
