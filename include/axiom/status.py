"""Counts per store, so a user (``make status``) and the tests see the same picture."""

from __future__ import annotations

from axiom.stores import vectors


def counts(pg, redis_client, driver, chroma_client) -> dict:
    """Row, key, node, edge and vector counts across the four stores."""
    postgres = {
        table: pg.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # table names are constants
        for table in ("price_bar", "rejected_row", "ingestion_run")
    }
    redis_counts = {"price_latest_keys": sum(1 for _ in redis_client.scan_iter(match="price:*:latest", count=1000))}
    with driver.session() as session:
        labels = session.run(
            "CALL db.labels() YIELD label CALL (label) { MATCH (n) WHERE label IN labels(n) RETURN count(n) AS n }"
            " RETURN label, n ORDER BY label"
        ).data()
        rels = session.run(
            "CALL db.relationshipTypes() YIELD relationshipType AS type"
            " CALL (type) { MATCH ()-[r]->() WHERE type(r) = type RETURN count(r) AS n } RETURN type, n ORDER BY type"
        ).data()
    chroma_counts = {c.name: c.count() for c in (vectors.price_patterns(chroma_client),)}
    return {
        "postgres": postgres,
        "redis": redis_counts,
        "neo4j": {"nodes": {r["label"]: r["n"] for r in labels}, "relationships": {r["type"]: r["n"] for r in rels}},
        "chroma": chroma_counts,
    }
