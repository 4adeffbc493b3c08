"""A burst of requests at a real api-server on loopback: every one answered, and the ledger connections it
holds stay within its pool, so a burst cannot exhaust the ``max_connections`` Airflow's metadata shares.
The figures (requests/s, p50/p99) are the benchmark's (benchmarks/api.py), not asserted here."""

from __future__ import annotations

import os
from collections import Counter

import pytest

POOL_SIZE = int(os.environ["AXIOM_API_POOL_SIZE"])  # .env's: 150 requests at once must wait for a connection


@pytest.fixture(scope="module")
def loaded(dagbag, pg, redis_client, neo4j_driver, chroma_client, tmp_path_factory):
    from benchmarks.api import ledger_connections

    from tests.integration.test_api import DAGS
    from tests.support import airflow_components, load_stores

    load_stores(dagbag, DAGS, pg=pg, redis_client=redis_client, neo4j_driver=neo4j_driver,
                chroma_client=chroma_client, landing=tmp_path_factory.mktemp("landing"))  # fmt: skip
    before = ledger_connections(pg)  # this process's own, counted before the api-server opens any
    with airflow_components("api-server", logs=tmp_path_factory.mktemp("airflow")) as url:
        yield url, before


def test_400_requests_150_at_once_all_answer_within_the_pool(loaded, pg):
    from benchmarks.api import ROUTES, PoolWatch, burst, mixed

    from axiom.stores import ledger

    url, before = loaded
    symbols = ledger.prices.symbols(pg)
    days = [d.isoformat() for d in ledger.prices.last_sessions(pg, ledger.prices.session_span(pg)[1], 10)]
    warm, _ = burst(url, mixed(len(ROUTES), symbols, days), 1, {})  # each route once: clients made, model loaded
    assert [status for status, _, _ in warm] == [200] * len(ROUTES), warm
    with PoolWatch(pg, before) as watch:
        results, _ = burst(url, mixed(400, symbols, days), 150, {})
    assert Counter(status for status, _, _ in results) == {200: 400}, Counter(w for s, _, w in results if s != 200)
    assert 1 <= watch.most <= POOL_SIZE, f"the api-server held {watch.most} ledger connections"
