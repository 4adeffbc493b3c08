"""The four stores are the real servers, reached over real connections."""

from __future__ import annotations


def test_graph_store_is_neo4j_5_26_community(neo4j_driver):
    with neo4j_driver.session() as session:
        component = session.run("CALL dbms.components() YIELD name, versions, edition RETURN *").single()
    assert component["name"] == "Neo4j Kernel"
    assert component["edition"] == "community"
    assert component["versions"][0].startswith("5.26.")


def test_ledger_is_postgresql(pg):
    version = pg.execute("SHOW server_version_num").fetchone()[0]
    assert int(version) >= 150000
    assert pg.execute("SELECT version FROM schema_migration ORDER BY version").fetchall()[0][0] == "001_price_ledger"


def test_cache_is_redis(redis_client):
    assert redis_client.ping() is True
    assert redis_client.info("server")["redis_version"]


def test_vector_store_is_a_chroma_server(chroma_client):
    assert chroma_client.heartbeat() > 0
