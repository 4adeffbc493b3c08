"""Axiom's HTTP API against the real stores, through FastAPI's TestClient and Airflow's own auth."""

from __future__ import annotations

import pytest

from tests.support import DAGS, load_stores


@pytest.fixture(scope="module")
def client(dagbag, pg, redis_client, neo4j_driver, chroma_client, tmp_path_factory):
    from airflow.api_fastapi.app import init_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
    from fastapi.testclient import TestClient

    from axiom_airflow.api import app

    load_stores(dagbag, DAGS, pg=pg, redis_client=redis_client, neo4j_driver=neo4j_driver,
                chroma_client=chroma_client, landing=tmp_path_factory.mktemp("landing"))  # fmt: skip
    token = init_auth_manager().generate_jwt(SimpleAuthManagerUser(username="axiom-test", role="admin"))
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as authorised:
        yield authorised


@pytest.mark.parametrize(
    ("path", "check"),
    [
        ("/api/questions/buy/AAPL?as_of=2022-06-15", lambda b: b["verdict"]["label"] in ("BUY", "HOLD", "SELL")),
        ("/api/questions/rotation?as_of=2022-12-28", lambda b: b["verdict"]["ranking"][0]["name"]),
        ("/api/questions/cascade?event=2022-06-15", lambda b: len(b["verdict"]["ranking"]) == 20),
        ("/api/questions/cascade?event=hike%2050bp&as_of=2022-12-28",
         lambda b: b["subject"] == "hypothetical hike 50bp"),
        ("/api/questions/like/JPM", lambda b: b["verdict"]["ranking"][0]["name"] == "BAC"),
        ("/api/search?text=oil%20and%20gas%20producer&kinds=companies&k=2",
         lambda b: {h["metadata"]["symbol"] for h in b} == {"XOM", "CVX"}),
        ("/api/search?text=rate%20hike&event_type=fed_decision&since=2022-06-01&until=2022-06-30",
         lambda b: [h["metadata"]["date"] for h in b] == ["2022-06-15"]),
        ("/api/similar/companies/JPM?k=1", lambda b: b[0]["symbol"] == "BAC"),
        ("/api/similar/patterns/AAPL?as_of=2022-12-28&horizon=20&k=3",
         lambda b: len(b) == 3 and all(m["horizon_end"] <= "2022-12-28" for m in b)),
        ("/api/correlations?as_of=2022-06-15&window=30",
         lambda b: b["as_of"] == "2022-06-15" and len(b["coefficients"]) == len(b["symbols"]) == 20),
        ("/api/graph/XOM?as_of=2022-12-28",
         lambda b: {"CVX", "sector:Energy"} <= {n["id"] for n in b["nodes"]}
         and {"BELONGS_TO", "COMPETES_WITH"} <= {e["kind"] for e in b["edges"]}),
        ("/api/prices/KO?as_of=2022-06-15&sessions=5",
         lambda b: b["dates"][-1] == "2022-06-15" and len(b["closes"]) == 5),
        ("/api/status", lambda b: b["postgres"]["price_bar"] > 0 and set(b["drift"].values()) == {0}),
        ("/", lambda b: "<title>Axiom</title>" in b),
        ("/static/echarts.min.js", lambda b: "echarts" in b[:2000]),
    ],
)  # fmt: skip
def test_every_endpoint_answers_from_the_stores(client, path, check):
    response = client.get(path)
    assert response.status_code == 200, response.text[:500]
    body = response.json() if response.headers["content-type"].startswith("application/json") else response.text
    assert check(body)


def test_what_a_dag_run_wrote(client, pg):
    origin = pg.execute("SELECT origin FROM ingestion_run WHERE pipeline = 'price_ingestion'").fetchone()[0]
    dag_id, run_id = origin.split("/", 1)
    body = client.get(f"/api/runs/{dag_id}/{run_id}").json()
    assert body["pipeline"] == "price_ingestion" and body["status"] == "succeeded"
    assert body["stats"]["load"]["inserted"] > 0 and len(body["scope"]["symbols"]) == 20
    assert client.get(f"/runs/{dag_id}/{run_id}").status_code == 200


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/api/questions/buy/AAPL;DROP", 422, "should match pattern"),
        ("/api/questions/buy/ZZZZ", 404, "ZZZZ has no daily prices"),
        ("/api/questions/buy/AAPL?as_of=2030-01-02", 400, "after the ledger's newest session"),
        ("/api/questions/buy/AAPL?as_of=2022-13-01", 422, "as_of must be a date like 2022-01-31"),
        ("/api/questions/cascade?event=tomorrow", 422, "should match pattern"),
        ("/api/search?text=", 422, "at least 1 character"),
        ("/api/search?text=x&event_type=rumour", 422, "Input should be"),
        ("/api/search?text=x&k=1000", 422, "less than or equal to 100"),
        ("/api/correlations?window=2", 422, "greater than or equal to 5"),
        ("/api/graph/ZZZZ", 404, "ZZZZ"),
        ("/api/runs/price_ingestion/no_such_run", 404, "started no ingestion run"),
        ("/static/../../etc/passwd", 404, ""),
    ],
)
def test_bad_input_gets_a_clear_4xx(client, path, status, message):
    response = client.get(path)
    assert response.status_code == status, response.text[:300]
    assert message in response.text


def test_an_unauthenticated_request_is_refused(client):
    from fastapi.testclient import TestClient

    from axiom_airflow.api import app

    anonymous = TestClient(app)
    for path in ("/api/questions/buy/AAPL", "/api/status", "/"):
        assert anonymous.get(path).status_code == 401
    forged = anonymous.get("/api/status", headers={"Authorization": "Bearer not-a-token"})
    assert forged.status_code == 403
