"""Fixtures for tests against the real services that `make test` starts.

The stores are the tests' own (scripts/env.sh ``use_test_stores``: a ``*_test`` PostgreSQL
database, Redis db 15, a second Neo4j whose database is ``axiomtest``, Chroma database
``axiom_test``); nothing is wiped unless all four are. Each test that writes starts from empty
stores (`clean_stores`) and leaves its data behind for inspection. The paid API is never called.
Every test here is marked ``integration``.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path

import pytest

from axiom import connections, schema
from axiom.stores import vectors
from tests.support import wipe

HERE = Path(__file__).resolve().parent


def ours(item) -> bool:
    return HERE in item.path.parents


def pytest_collection_modifyitems(items):
    """Every test of this folder is marked ``integration`` (``-m "not integration"`` leaves them out)."""
    for item in filter(ours, items):
        item.add_marker(pytest.mark.integration)


def pytest_collection_finish(session):
    """No test of this folder runs unless every connection points at the tests' own stores."""
    if os.environ.get("AXIOM_STORES") != "test" and any(map(ours, session.items)):
        pytest.exit(
            "run tests/integration through `make test`: it points every connection at the tests' own stores"
            " (`pytest tests/unit tests/dags` needs no service)",
            2,
        )


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


@pytest.fixture
def clean_stores(pg, redis_client, neo4j_driver, chroma_client, tmp_path, monkeypatch):
    """Empty stores and a private landing folder for one test."""
    monkeypatch.setenv("AXIOM_LANDING_DIR", str(tmp_path / "landing"))
    wipe(pg, redis_client, neo4j_driver, chroma_client)
    yield tmp_path / "landing"


def _param_objects(bag) -> list:
    """Every Param object of every DAG and task in the bag (tasks share their DAG's)."""
    holders = [d.params for d in bag.dags.values()] + [t.params for d in bag.dags.values() for t in d.tasks]
    return list({id(p): p for h in holders for p in (h.get_param(k) for k in h)}.values())


@pytest.fixture(autouse=True)
def declared_params(request):
    """Each test's DAG runs start from the Params the DAG files declare. dag.test() runs tasks in this
    process, where Airflow's param merge writes a run's conf into the DAG's own Param objects, so a conf
    key one run set would otherwise leak into the next run that leaves it out."""
    if "dagbag" not in request.fixturenames:
        yield
        return
    params = _param_objects(request.getfixturevalue("dagbag"))
    declared = [copy.deepcopy(p.value) for p in params]
    yield
    for param, value in zip(params, declared, strict=True):
        param.value = value


@pytest.fixture
def price_patterns(chroma_client):
    return vectors.price_patterns(chroma_client)
