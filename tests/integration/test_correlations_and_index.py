"""Pipelines 4 and 5 on real data: correlations against a pandas recomputation, the Asset-triggered
semantic index against the ledger, and search relevance."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from axiom import index, search
from axiom.pipelines import correlations
from axiom.stores import ledger

LATEST = {"symbols": [], "window": 30, "threshold": 0.7, "as_of": None, "backfill_start": None, "backfill_end": None}
BACKFILL = {**LATEST, "backfill_start": "2022-01-01", "backfill_end": "2022-12-31"}


@pytest.fixture(scope="module")
def built(dagbag, pg, redis_client, neo4j_driver, chroma_client, tmp_path_factory):
    """All 20 symbols from mid-2021, companies, 2022 events, correlations (latest and 2022 backfill), index."""
    from tests.support import wipe

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AXIOM_LANDING_DIR", str(tmp_path_factory.mktemp("landing")))
        wipe(pg, redis_client, neo4j_driver, chroma_client)
        runs = [
            ("price_ingestion", {"symbols": [], "start": "2021-06-01", "end": "2022-12-31", "provider": "offline"}),
            ("company_graph", {"provider": "offline"}),
            ("market_events", {"start": "2022-01-01", "end": "2022-12-31", "k": 5.0, "window": 60}),
            ("correlations", LATEST),
            ("correlations", BACKFILL),
            ("semantic_index", None),
        ]
        for dag_id, conf in runs:
            assert dagbag.dags[dag_id].test(run_conf=conf).state == "success", dag_id
        yield dagbag


def pandas_matrix(pg, as_of: date, window: int) -> pd.DataFrame:
    """An independent recomputation: pivot the ledger's closes, pct_change, last `window` rows, .corr()."""
    rows = pg.execute("SELECT symbol, ts, close FROM price_bar WHERE ts <= %s", (as_of,)).fetchall()
    wide = pd.DataFrame(rows, columns=["symbol", "ts", "close"]).pivot(index="ts", columns="symbol", values="close")
    return wide.sort_index().pct_change(fill_method=None).iloc[-window:].corr()


def test_stored_coefficients_equal_a_pandas_recomputation(built, pg):
    stored = ledger.correlations.correlations(pg, window=30, as_ofs=[date(2022, 12, 28)])
    assert stored and all(abs(r["coefficient"]) >= 0.7 for r in stored)
    expected = pandas_matrix(pg, date(2022, 12, 28), 30)
    for r in stored:
        assert r["a"] < r["b"] and r["observations"] == 30
        assert r["coefficient"] == pytest.approx(expected.loc[r["a"], r["b"]], abs=1e-9)
    strong = {(a, b) for a in expected for b in expected if a < b and abs(expected.loc[a, b]) >= 0.7}
    assert strong == {(r["a"], r["b"]) for r in stored}


def test_backfill_gives_one_matrix_per_month_end_identical_to_each_date_alone(built, pg):
    run = pg.execute("SELECT scope FROM ingestion_run WHERE pipeline = 'correlations' ORDER BY run_id DESC LIMIT 1")
    as_ofs = run.fetchone()[0]["as_ofs"]
    assert len(as_ofs) == 12 and as_ofs[0] == "2022-01-31" and as_ofs[-1] == "2022-12-28"
    together = correlations.matrices(
        pg, correlations.CorrelationParams(backfill_start=date(2022, 1, 1), backfill_end=date(2022, 12, 31))
    )
    for m in together:
        [alone] = correlations.matrices(pg, correlations.CorrelationParams(as_of=m.as_of.date()))
        assert alone.as_of == m.as_of
        np.testing.assert_array_equal(alone.coefficients, m.coefficients)


def test_graph_and_cache_hold_the_latest_correlations(built, pg, neo4j_driver, redis_client):
    import json

    latest = {(r["a"], r["b"]): r for r in ledger.correlations.correlations(pg, window=30, as_ofs=[date(2022, 12, 28)])}
    with neo4j_driver.session() as s:
        edges = s.run(
            "MATCH (a:Stock)-[r:CORRELATED_WITH {window: 30}]->(b:Stock)"
            " RETURN a.symbol AS a, b.symbol AS b, r.coefficient AS c, r.explanation AS e"
        ).data()
    assert {(e["a"], e["b"]) for e in edges} == set(latest)
    assert all(e["c"] == latest[e["a"], e["b"]]["coefficient"] and e["e"] for e in edges)
    matrix = json.loads(redis_client.get("correlation:matrix:latest"))
    assert matrix["as_of"] == "2022-12-28" and len(matrix["symbols"]) == 20
    top = json.loads(redis_client.get("correlation:XOM:top"))["top"]
    assert top[0]["symbol"] == "CVX"


def test_index_schedule_is_any_of_the_four_assets(built):
    from airflow.sdk import AssetAny

    condition = built.dags["semantic_index"].timetable.asset_condition
    assert isinstance(condition, AssetAny)
    assert sorted(a.name for a in condition.objects) == [
        "company_fundamentals",
        "correlation",
        "market_event",
        "price_bar",
    ]


def test_index_leaves_every_collection_equal_to_the_ledger(built, pg, chroma_client):
    expected = index.ledger_counts(pg, window=30)
    held = {c.name: c.count() for c in chroma_client.list_collections()}
    assert held == expected
    assert expected["correlations"] > 100 and expected["market_events"] > 8


def test_a_row_deleted_from_the_ledger_leaves_chroma_at_the_next_index_run(built, pg, chroma_client):
    event_id = pg.execute("SELECT max(event_id) FROM market_event WHERE source = 'price_move'").fetchone()[0]
    collection = chroma_client.get_collection("market_events")
    assert collection.get(ids=[f"market_event:{event_id}"])["ids"]
    pg.execute("DELETE FROM market_event WHERE event_id = %s", (event_id,))
    assert built.dags["semantic_index"].test().state == "success"
    assert collection.get(ids=[f"market_event:{event_id}"])["ids"] == []
    changes = pg.execute("SELECT changes FROM index_state WHERE collection = 'market_events'").fetchone()[0]
    assert changes["deleted"] == 1 and changes["upserted"] == 0


def test_relevance_on_real_data(built, pg, chroma_client):
    oil = search.search(chroma_client, "oil and gas producer", kinds=["companies"], k=5)
    assert {h.metadata["symbol"] for h in oil[:2]} == {"XOM", "CVX"}
    assert "BAC" in [h.metadata["symbol"] for h in search.similar_companies(chroma_client, "JPM", k=3)]
    fed = search.search(chroma_client, "interest rates", where=search.where_clause(event_type="fed_decision"), k=20)
    assert len(fed) == 8 and all(h.kind == "market_events" and h.metadata["source"] == "fomc" for h in fed)
    in_june = search.where_clause(event_type="fed_decision", since=date(2022, 6, 1), until=date(2022, 6, 30))
    assert [h.metadata["date"] for h in search.search(chroma_client, "rate hike", where=in_june)] == ["2022-06-15"]


@pytest.mark.parametrize("as_of", [date(2022, 6, 15), date(2022, 12, 28)])
def test_similar_price_patterns_never_look_ahead(built, pg, chroma_client, as_of):
    matches = search.similar_price_patterns(pg, chroma_client, "AAPL", as_of, k=10, horizon=20)
    assert matches
    sessions = [
        r[0].date()
        for r in pg.execute("SELECT DISTINCT ts FROM price_bar WHERE ts <= %s ORDER BY ts", (as_of,)).fetchall()
    ]
    for m in matches:
        assert m.horizon_end <= as_of
        assert sessions.index(m.horizon_end) - sessions.index(m.window_end) == 20


def test_reruns_change_nothing(built, pg, chroma_client, neo4j_driver):
    def picture():
        with neo4j_driver.session() as s:
            edges = s.run("MATCH ()-[r:CORRELATED_WITH]->() RETURN count(r) AS n").single()["n"]
        rows = pg.execute("SELECT count(*), sum(coefficient) FROM correlation").fetchone()
        return edges, rows, {c.name: c.count() for c in chroma_client.list_collections()}

    before = picture()
    assert built.dags["correlations"].test(run_conf=BACKFILL).state == "success"
    assert built.dags["semantic_index"].test().state == "success"
    assert picture() == before
    changes = dict(pg.execute("SELECT collection, changes FROM index_state").fetchall())
    assert all(c["upserted"] == 0 and c["deleted"] == 0 for c in changes.values())


def test_a_month_has_one_document_per_pair_and_known_text_is_not_embedded_again(built, pg, chroma_client, caplog):
    """A later session of a month already documented moves no document on; an earlier session's matrix makes
    it the pairs' first strong session of December, so their documents change metadata but keep their text
    (rules explain the relation, not the day's coefficient) and take the held vectors."""
    import logging

    collection = chroma_client.get_collection("correlations")
    december = {(r["a"], r["b"]) for r in ledger.correlations.correlations(pg, window=30, as_ofs=[date(2022, 12, 28)])}
    earlier = {(r["a"], r["b"]) for r in ledger.correlations.correlations(pg, window=30, as_ofs=[date(2022, 12, 21)])}
    assert not earlier  # only month-ends and the latest session so far
    with caplog.at_level(logging.INFO, logger="axiom.stores.vectors"):
        assert built.dags["correlations"].test(run_conf={**LATEST, "as_of": "2022-12-21"}).state == "success"
    earlier = {(r["a"], r["b"]) for r in ledger.correlations.correlations(pg, window=30, as_ofs=[date(2022, 12, 21)])}
    assert earlier & december and earlier - december  # pairs carried on, pairs only strong on the 21st
    months = ledger.correlations.pair_months(pg, window=30, months=[date(2022, 12, 5)])
    assert {(r["a"], r["b"]) for r in months} == december | earlier
    held = collection.get(ids=[f"correlation:{r['a']}:{r['b']}:30:2022-12" for r in months], include=["metadatas"])
    as_of = {(m["a"], m["b"]): m["as_of"] for m in held["metadatas"]}
    assert len(as_of) == len(months)
    assert all(as_of[p] == ("2022-12-21" if p in earlier else "2022-12-28") for p in as_of)
    carried = [r.getMessage() for r in caplog.records if "vectors taken from earlier records" in r.getMessage()]
    assert carried == [f"correlations: {len(earlier & december)} of {len(earlier)} vectors taken from earlier records"]
    assert index.ledger_counts(pg, window=30)["correlations"] == collection.count()


def test_edges_no_longer_strong_go_when_the_next_session_is_drawn(built, pg, neo4j_driver):
    latest = {(r["a"], r["b"]) for r in ledger.correlations.correlations(pg, window=30, as_ofs=[date(2022, 12, 28)])}
    weak = next((a, b) for a in ("AAPL", "KO") for b in ("XOM", "PG") if (a, b) not in latest)
    with neo4j_driver.session() as s:  # an edge an earlier session drew, no longer strong on the 28th
        s.run(
            "MATCH (a:Stock {symbol: $a}), (b:Stock {symbol: $b})"
            " CREATE (a)-[:CORRELATED_WITH {window: 30, coefficient: 0.75, run_id: -1}]->(b)",
            a=weak[0],
            b=weak[1],
        )
    assert built.dags["correlations"].test(run_conf={**LATEST, "as_of": "2022-12-28"}).state == "success"
    with neo4j_driver.session() as s:
        edges = s.run("MATCH (a)-[r:CORRELATED_WITH {window: 30}]->(b) RETURN a.symbol AS a, b.symbol AS b").data()
    assert {(e["a"], e["b"]) for e in edges} == latest


def test_a_collection_its_pipeline_is_writing_is_left_to_that_run(built, pg, chroma_client):
    """Repairing beside the writer would embed its documents twice; once the writer ends (here: fails), the
    next verification repairs what it left."""
    spec = index.spec("correlations")
    collection = chroma_client.get_collection("correlations")
    whole = collection.count()
    collection.delete(ids=collection.get(limit=3, include=[])["ids"])  # what a writer has not written yet
    run_id = ledger.runs.start_run(pg, pipeline="correlations", provider="ledger", params={})
    deferred = index.verify(pg, chroma_client, spec, window=30)
    assert deferred["writer"] == run_id and not deferred["repaired"] and collection.count() == whole - 3
    ledger.runs.finish(pg, run_id, "failed", {"failure": "stopped by the test"})
    repaired = index.verify(pg, chroma_client, spec, window=30)
    assert repaired["repaired"] and repaired["upserted"] == 3 and collection.count() == whole
