"""Fixtures for tests against the real services that `make test` starts.

The stores are the local ones named in .env. Each test that writes starts from empty stores
(`clean_stores`) and leaves its data behind for inspection: `make run` afterwards rebuilds the
full picture.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from axiom import connections, schema
from axiom.stores import ledger, vectors

ROOT = Path(__file__).resolve().parents[1]

if "AIRFLOW_CONN_AXIOM_POSTGRES" not in os.environ:
    pytest.exit("run the tests through `make test` (or scripts/env.sh pytest): the .env settings are missing", 2)


@pytest.fixture(scope="session")
def pg():
    with connections.postgres() as conn:
        schema.migrate_postgres(conn)
        yield conn


@pytest.fixture(scope="session")
def redis_client():
    client = connections.redis()
    yield client
    client.close()


@pytest.fixture(scope="session")
def neo4j_driver():
    with connections.neo4j() as driver:
        schema.migrate_neo4j(driver)
        yield driver


@pytest.fixture(scope="session")
def chroma_client():
    return connections.chroma()


def wipe(pg, redis_client, neo4j_driver, chroma_client) -> None:
    """Empty every store Axiom writes to (schema stays)."""
    pg.execute(f"TRUNCATE {', '.join(ledger.db.TABLES)}, ingestion_run")
    redis_client.flushdb()
    with neo4j_driver.session() as session:
        session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()
    for collection in chroma_client.list_collections():
        chroma_client.delete_collection(collection.name)


@pytest.fixture
def clean_stores(pg, redis_client, neo4j_driver, chroma_client, tmp_path, monkeypatch):
    """Empty stores and a private landing folder for one test."""
    monkeypatch.setenv("AXIOM_LANDING_DIR", str(tmp_path / "landing"))
    wipe(pg, redis_client, neo4j_driver, chroma_client)
    yield tmp_path / "landing"


@pytest.fixture(scope="session")
def dagbag():
    from airflow.models.dagbag import DagBag

    return DagBag(dag_folder=str(ROOT / "dags"))


@pytest.fixture
def price_patterns(chroma_client):
    return vectors.price_patterns(chroma_client)
