"""The ledger's promise against the real stores: ``doctor`` finds tampering by value, ``rebuild`` undoes it
and any wipe, from PostgreSQL alone."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from axiom import projections
from axiom.status import counts
from axiom.stores import cache, graph, vectors

DAGS = (
    ("company_graph", {"provider": "offline"}),
    ("price_ingestion", {"symbols": [], "start": "2021-01-01", "end": "2022-12-31", "provider": "offline"}),
    ("market_events", {"symbols": [], "start": "2022-01-01", "end": "2022-12-31", "k": 5.0, "window": 60}),
    ("correlations", {"window": 30, "threshold": 0.7}),
)
WINDOW = 30


@pytest.fixture(scope="module")
def stores(dagbag, pg, redis_client, neo4j_driver, chroma_client, tmp_path_factory):
    """Every pipeline's projections of one year of real data."""
    from tests.support import load_stores

    load_stores(dagbag, DAGS, pg=pg, redis_client=redis_client, neo4j_driver=neo4j_driver,
                chroma_client=chroma_client, landing=tmp_path_factory.mktemp("landing"))  # fmt: skip
    return {"redis": redis_client, "neo4j": neo4j_driver, "chroma": chroma_client}


def drifted(pg, stores) -> dict[tuple[str, str], projections.Drift]:
    found = projections.doctor(pg, stores["redis"], stores["neo4j"], stores["chroma"], window=WINDOW)
    assert {d.store for d in found} == set(projections.STORES)
    return {(d.store, d.kind): d for d in found if d.drifted}


def store_counts(pg, stores) -> dict:
    held = counts(pg, stores["redis"], stores["neo4j"], stores["chroma"], window=WINDOW)
    return {k: held[k] for k in ("redis", "neo4j", "chroma")}


def test_the_pipelines_leave_no_drift(pg, stores):
    assert drifted(pg, stores) == {}
    held = projections.check_neo4j(pg, stores["neo4j"])
    assert {d.kind: d.held for d in held}["CORRELATED_WITH"] > 0  # a real comparison, not of empty maps


def test_tampering_with_a_key_an_edge_and_a_vector_is_found_and_rebuilt(pg, stores):
    r, driver, chroma = stores["redis"], stores["neo4j"], stores["chroma"]
    key = cache.latest_price_key("AAPL")
    r.set(key, json.dumps({**json.loads(r.get(key)), "close": 1.0}))  # same shape, wrong value
    r.set(cache.latest_price_key("ZZZZ"), json.dumps({"symbol": "ZZZZ", "close": 1.0}))  # a key the ledger lacks
    with driver.session() as s:
        pair = s.run(
            "MATCH (a:Stock)-[r:CORRELATED_WITH]->(b:Stock) WITH a, b, r LIMIT 1"
            " SET r.coefficient = r.coefficient * 0.5 RETURN a.symbol AS a, b.symbol AS b, r.window AS w"
        ).single()
        s.run("MATCH (:Company)-[r:COMPETES_WITH]->(:Company) WITH r LIMIT 1 DELETE r").consume()
    patterns = vectors.price_patterns(chroma)
    [victim] = patterns.get(limit=1, include=["embeddings"])["ids"]
    held = np.asarray(patterns.get(ids=[victim], include=["embeddings"])["embeddings"][0])
    patterns.update(ids=[victim], embeddings=[(held + 0.5).tolist()])  # the vector alone: metadata and digest stay

    found = drifted(pg, stores)
    assert set(found) == {
        ("redis", "price:*:latest"),
        ("neo4j", "CORRELATED_WITH"),
        ("neo4j", "COMPETES_WITH"),
        ("chroma", vectors.PRICE_PATTERNS),
    }
    assert found["redis", "price:*:latest"].different == [key]
    assert found["redis", "price:*:latest"].extra == [cache.latest_price_key("ZZZZ")]
    assert found["neo4j", "CORRELATED_WITH"].different == [(pair["a"], pair["b"], pair["w"])]
    assert len(found["neo4j", "COMPETES_WITH"].missing) == 1
    assert found["chroma", vectors.PRICE_PATTERNS].different == [victim]

    doctor = [sys.executable, "-m", "axiom", "doctor"]
    assert subprocess.run(doctor, capture_output=True, text=True).returncode == 1
    for store in projections.STORES:
        projections.rebuild(pg, store, stores[store])
    assert drifted(pg, stores) == {}
    done = subprocess.run(doctor, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no drift" in done.stdout


def empty(store: str, client) -> None:
    """What losing a store looks like: every key, node or collection gone."""
    if store == "redis":
        cache.flush(client)
    elif store == "neo4j":
        graph.delete_all(client)
    else:
        vectors.delete_collections(client, [c.name for c in client.list_collections()])


@pytest.mark.parametrize("store", projections.STORES)
def test_a_wiped_store_comes_back_from_the_ledger_alone(pg, stores, store):
    before = store_counts(pg, stores)
    empty(store, stores[store])
    assert store_counts(pg, stores)[store] != before[store]
    assert any(s == store for s, _ in drifted(pg, stores))
    projections.rebuild(pg, store, stores[store])
    assert drifted(pg, stores) == {}
    assert store_counts(pg, stores) == before


def test_the_rebuild_dag_brings_a_store_back_in_line(pg, stores, dagbag):
    r = stores["redis"]
    r.delete(cache.company_metadata_key("JPM"))
    assert ("redis", "company:*:metadata") in drifted(pg, stores)
    assert dagbag.dags["rebuild_projections"].test(run_conf={"stores": ["redis"]}).state == "success"
    assert drifted(pg, stores) == {}
    from airflow.sdk.exceptions import ParamValidationError

    with pytest.raises(ParamValidationError, match="param stores: 'mysql' is not one of"):  # refused at the trigger
        dagbag.dags["rebuild_projections"].test(run_conf={"stores": ["mysql"]})


def test_a_reader_during_a_rebuild_sees_the_old_picture_or_the_new_never_none(pg, stores):
    """A poller reads a key, a node count and a collection count while each store is rebuilt."""
    import threading

    r, driver, chroma = stores["redis"], stores["neo4j"], stores["chroma"]
    key = cache.latest_price_key("AAPL")
    before = {"redis": r.get(key), "neo4j": graph.counts(driver), "chroma": vectors.collection_counts(chroma)}
    seen = {"redis": set(), "neo4j": [], "chroma": []}
    done = threading.Event()

    def poll():
        while not done.is_set():
            seen["redis"].add(r.get(key))
            seen["neo4j"].append(graph.counts(driver)["nodes"]["Stock"])
            seen["chroma"].append(vectors.collection_counts(chroma).get(vectors.PRICE_PATTERNS, 0))

    poller = threading.Thread(target=poll)
    poller.start()
    try:
        for store in projections.STORES:
            projections.rebuild(pg, store, stores[store])
    finally:
        done.set()
        poller.join()
    assert seen["redis"] == {before["redis"]}
    assert len(seen["neo4j"]) > 3 and set(seen["neo4j"]) == {before["neo4j"]["nodes"]["Stock"]}
    assert set(seen["chroma"]) == {before["chroma"][vectors.PRICE_PATTERNS]}
    assert drifted(pg, stores) == {}


def test_a_rebuild_that_fails_halfway_leaves_the_old_picture(pg, stores):
    r = stores["redis"]
    before = cache.projected(r)
    pg.execute("ALTER TABLE sector_momentum RENAME TO sector_momentum_away")  # a step after cache_latest fails
    try:
        with pytest.raises(Exception, match="sector_momentum"):
            projections.rebuild(pg, "redis", r)
    finally:
        pg.execute("ALTER TABLE sector_momentum_away RENAME TO sector_momentum")
    assert cache.projected(r) == before  # nothing emptied, nothing lost: the values written again are the same
    assert drifted(pg, stores) == {}
