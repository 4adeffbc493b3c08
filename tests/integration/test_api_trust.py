"""The API gives nothing away and keeps answering: every path behind authentication, a DAG run's writes only
for who may read that DAG (its text masked), bounded inputs, dates that are dates, a store that is down a
503 naming it while the other stores' routes answer, a bug a 500 in the log. On the real stores, through
FastAPI's TestClient and Airflow's own auth manager; the servers stopped here are the tests' own."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from urllib.parse import unquote, urlsplit

import pytest


@pytest.fixture(scope="module")
def signed_in(dagbag, pg, redis_client, neo4j_driver, chroma_client, tmp_path_factory):
    """A TestClient per signed-in user (role ``admin``, ``viewer``, or none: known, but allowed nothing)."""
    from airflow.api_fastapi.app import init_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
    from fastapi.testclient import TestClient

    from axiom_airflow.api import app
    from tests.integration.test_api import DAGS
    from tests.support import load_stores

    load_stores(dagbag, DAGS, pg=pg, redis_client=redis_client, neo4j_driver=neo4j_driver,
                chroma_client=chroma_client, landing=tmp_path_factory.mktemp("landing"))  # fmt: skip
    manager = init_auth_manager()
    clients = {}
    for role in ("admin", "viewer", None):
        token = manager.generate_jwt(SimpleAuthManagerUser(username=f"axiom-{role}", role=role))
        clients[role] = TestClient(app, headers={"Authorization": f"Bearer {token}"}, raise_server_exceptions=False)
    yield clients


@pytest.fixture
def client(signed_in):
    return signed_in["admin"]


def test_every_path_of_the_app_requires_authentication():
    from fastapi.routing import APIRoute
    from fastapi.testclient import TestClient

    from axiom_airflow.api import app

    anonymous = TestClient(app)
    paths = {r.path for r in app.routes if isinstance(r, APIRoute)}
    assert {"/docs", "/redoc", "/openapi.json", "/api/status", "/"} <= paths
    for path in paths:
        filled = path.format(symbol="AAPL", dag_id="price_ingestion", run_id="x", name="axiom.js", kind="buy")
        assert anonymous.get(filled).status_code == 401, path


def test_the_openapi_document_and_its_pages_answer_a_signed_in_user(client):
    assert "/api/questions/buy/{symbol}" in client.get("/openapi.json").json()["paths"]
    for page in ("/docs", "/redoc"):
        response = client.get(page)
        assert response.status_code == 200 and "openapi.json" in response.text


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/api/questions/buy/AAPL?as_of=0001-01-01", "outside the dates"),
        ("/api/similar/patterns/AAPL?as_of=0001-01-01", "outside the dates"),  # a 500 once: a date overflow
        ("/api/questions/buy/AAPL?as_of=1655251200", "must be a date"),  # an epoch number
        ("/api/questions/buy/AAPL?as_of=2022-06-15T00:00:00", "must be a date"),
        ("/api/prices/AAPL?as_of=9999-12-31", "outside the dates"),
        ("/api/search?text=x&since=2022-06-15T12:00:00", "must be a date"),
        ("/api/search?text=x&until=0001-01-01", "outside the dates"),
        ("/api/search?text=x" + "&kinds=companies" * 1000, "at most 3 items"),
        ("/api/search?text=" + "x" * 1001, "at most 1000 characters"),
    ],
)
def test_dates_are_dates_and_every_list_and_size_is_bounded(client, path, message):
    response = client.get(path)
    assert response.status_code == 422, response.text[:300]
    assert message in response.text


def test_a_kind_asked_twice_is_searched_once(client):
    hits = client.get("/api/search?text=oil%20and%20gas%20producer&kinds=companies&kinds=companies&k=2").json()
    assert [h["metadata"]["symbol"] for h in hits] in (["XOM", "CVX"], ["CVX", "XOM"])


def test_the_cli_refuses_a_date_off_the_calendar_with_a_reason():
    done = subprocess.run(
        [sys.executable, "-m", "axiom", "similar-patterns", "AAPL", "--as-of", "0001-01-01"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2 and "outside the dates" in done.stderr and "Traceback" not in done.stderr


def test_a_dated_cascade_stands_on_its_as_of_and_reads_nothing_after_it(client):
    early = client.get("/api/questions/cascade?event=2022-06-15&as_of=2022-03-01")
    assert early.status_code == 400 and "after as_of 2022-03-01" in early.text
    later = client.get("/api/questions/cascade?event=2022-06-15&as_of=2022-12-28").json()
    assert later["as_of"] == "2022-12-28" and later["params"]["decided"] == "2022-06-15"
    similar = next(e for e in later["evidence"] if e["store"] == "chroma")
    assert similar["facts"] and all(hit["date"] < "2022-06-15" for hit in similar["facts"])  # not itself


PLANTED = "planted-value-of-a-secret-field"  # masked by its key's name, whatever it holds


@pytest.fixture
def failed_run(pg):
    """A failed run of price_ingestion whose failure text and params carry secrets."""
    from axiom.stores import ledger

    origin = "price_ingestion/manual__masking"
    uri = os.environ["AIRFLOW_CONN_AXIOM_POSTGRES"]
    ledger.runs.start_run(pg, pipeline="price_ingestion", provider="offline", params={"api_key": PLANTED},
                          origin=origin)  # fmt: skip
    ledger.runs.fail(pg, origin, f"load: OperationalError: connection to {uri} failed: server closed the connection")
    yield origin.split("/")
    pg.execute("DELETE FROM ingestion_run WHERE origin = %s", (origin,))


def test_a_dag_runs_writes_only_for_who_may_read_that_dag_masked_as_task_logs(signed_in, failed_run):
    dag_id, run_id = failed_run
    path = f"/api/runs/{dag_id}/{run_id}"
    assert signed_in[None].get(path).status_code == 403  # signed in, but the auth manager allows no DAG
    for role in ("admin", "viewer"):
        response = signed_in[role].get(path)
        assert response.status_code == 200, response.text[:300]
        body = response.json()
        assert body["status"] == "failed" and "OperationalError" in body["stats"]["failure"]
        password = unquote(urlsplit(os.environ["AIRFLOW_CONN_AXIOM_POSTGRES"]).password)
        assert password not in response.text and "***" in body["stats"]["failure"]
        assert body["params"]["api_key"] == "***" and PLANTED not in response.text


def test_a_bug_is_a_500_in_the_log_and_a_refusal_stays_a_4xx(client, caplog):
    import numpy as np

    from axiom.validation import parse_symbols
    from axiom_airflow.api import app

    bugs = {
        "/bug/key": lambda: {}["missing"],  # a KeyError is a LookupError, but not a "not found"
        "/bug/numpy": lambda: np.ones(2) + np.ones(3),  # a library's ValueError is not bad input
        "/refused": lambda: parse_symbols("AAPL;DROP"),
    }
    before = list(app.router.routes)
    for path, fn in bugs.items():
        app.add_api_route(path, fn)
    try:
        with caplog.at_level(logging.ERROR, logger="axiom_airflow.api"):
            for path in ("/bug/key", "/bug/numpy"):
                response = client.get(path)
                assert response.status_code == 500, (path, response.text)
                assert any(r.exc_info and path in r.getMessage() for r in caplog.records), path
        refused = client.get("/refused")
        assert refused.status_code == 400 and "malformed symbols" in refused.text
    finally:
        app.router.routes[:] = before


def test_with_chroma_down_prices_answer_and_search_is_a_503_naming_chroma(client):
    from tests.integration.test_faults import start_servers, stop_server

    stop_server("chroma")
    try:
        assert client.get("/api/prices/KO?as_of=2022-06-15&sessions=5").json()["dates"][-1] == "2022-06-15"
        assert client.get("/api/graph/XOM?as_of=2022-12-28").status_code == 200
        for path in ("/api/search?text=oil", "/api/similar/companies/JPM", "/api/questions/like/JPM?as_of=2022-06-14"):
            response = client.get(path)
            assert response.status_code == 503, (path, response.text[:300])
            assert response.json()["store"] == "chroma" and "chroma is unavailable" in response.json()["detail"]
    finally:
        start_servers()
    assert client.get("/api/search?text=oil&k=1").status_code == 200


def test_with_redis_down_a_question_is_answered_from_the_ledger_and_says_so(client, pg):
    from tests.integration.test_faults import start_servers, stop_server

    kept = pg.execute("SELECT count(*) FROM insight").fetchone()[0]
    stop_server("redis")
    try:
        response = client.get("/api/questions/buy/AAPL?as_of=2022-12-28")  # Redis caches this session's price
        assert response.status_code == 200, response.text[:300]
        answer = response.json()
        assert any("Redis is unavailable" in n for n in answer["notes"]) and answer["cached"] is None
        price = next(e for e in answer["evidence"] if e["what"] == "price")
        assert price["facts"]["source"] == "ledger"
        assert pg.execute("SELECT count(*) FROM insight").fetchone()[0] == kept  # a degraded answer is not kept
        status = client.get("/api/status")
        assert status.status_code == 503 and status.json()["store"] == "redis"
    finally:
        start_servers()
    assert client.get("/api/status").status_code == 200


def test_with_neo4j_down_the_graph_is_a_503_naming_neo4j_and_prices_answer(client):
    from tests.integration.test_faults import start_servers, stop_server

    stop_server("neo4j")
    try:
        graph = client.get("/api/graph/XOM?as_of=2022-12-28")
        assert graph.status_code == 503 and graph.json()["store"] == "neo4j"
        assert client.get("/api/prices/KO?sessions=2").status_code == 200
    finally:
        start_servers()
    assert client.get("/api/graph/XOM?as_of=2022-12-28").status_code == 200
