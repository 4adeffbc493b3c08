"""Counts per store, so a user (``make status``) and the tests see the same picture."""

from __future__ import annotations

from axiom import index

LEDGER_TABLES = (
    "price_bar",
    "company_fundamentals",
    "company_competitor",
    "market_event",
    "event_sector_sensitivity",
    "correlation",
    "analyst_judgement",
    "index_state",
    "rejected_row",
)
RUN_LOG = "ingestion_run"
REDIS_KEYS = {
    "price_latest_keys": "price:*:latest",
    "company_metadata_keys": "company:*:metadata",
    "recent_event_keys": "events:*:recent",
    "correlation_keys": "correlation:*",
}


def counts(pg, redis_client, driver, chroma_client, *, window: int) -> dict:
    """Row, key, node, edge and vector counts across the four stores, and the runs that wrote them.

    The run log grows with every run; every other count stays put when a run changes nothing.
    """
    postgres = {
        table: pg.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # table names are constants
        for table in LEDGER_TABLES
    }
    redis_counts = {
        name: sum(1 for _ in redis_client.scan_iter(match=pattern, count=1000)) for name, pattern in REDIS_KEYS.items()
    }
    with driver.session() as session:
        labels = session.run(
            "CALL db.labels() YIELD label CALL (label) { MATCH (n) WHERE label IN labels(n) RETURN count(n) AS n }"
            " RETURN label, n ORDER BY label"
        ).data()
        rels = session.run(
            "CALL db.relationshipTypes() YIELD relationshipType AS type"
            " CALL (type) { MATCH ()-[r]->() WHERE type(r) = type RETURN count(r) AS n } RETURN type, n ORDER BY type"
        ).data()
    held = {c.name: c.count() for c in chroma_client.list_collections()}
    expected = index.ledger_counts(pg, window=window)
    # each collection beside the number of records the ledger implies
    chroma_counts = {name: {"chroma": held.get(name, 0), "ledger": n} for name, n in sorted(expected.items())}
    runs = dict(pg.execute(f"SELECT status, count(*) FROM {RUN_LOG} GROUP BY status").fetchall())
    return {
        "postgres": postgres,
        "redis": redis_counts,
        "neo4j": {"nodes": {r["label"]: r["n"] for r in labels}, "relationships": {r["type"]: r["n"] for r in rels}},
        "chroma": chroma_counts,
        "runs": runs,
    }
