"""Pipelines 2 and 3 end to end with `dag.test()`, then the graph is questioned in Cypher."""

from __future__ import annotations

import pytest

from axiom.pipelines import events
from axiom.stores import ledger

PRICES = {"symbols": [], "start": "2021-09-01", "end": "2022-12-31", "provider": "offline"}
EVENTS = {"symbols": [], "start": "2022-01-01", "end": "2022-12-31", "k": 5.0, "window": 60, "provider": "offline"}


def graph_counts(driver) -> dict:
    with driver.session() as session:
        nodes = session.run("MATCH (n) UNWIND labels(n) AS label RETURN label, count(*) AS n ORDER BY label").data()
        rels = session.run("MATCH ()-[r]->() RETURN type(r) AS type, count(*) AS n ORDER BY type").data()
        props = session.run(
            "MATCH (a)-[r]->(b) RETURN type(r) AS t, coalesce(a.symbol, a.name, toString(a.event_id)) AS a,"
            " coalesce(b.symbol, b.name, toString(b.event_id)) AS b, properties(r) AS p"
            " ORDER BY t, a, b, toString(r.as_of)"
        ).data()
    return {"nodes": nodes, "rels": rels, "props": props}


@pytest.fixture(scope="module")
def built(dagbag, pg, redis_client, neo4j_driver, chroma_client, tmp_path_factory):
    """Prices for all 20 symbols (Sep 2021 - 2022), then the company graph, then 2022's events."""
    from tests.support import wipe

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AXIOM_LANDING_DIR", str(tmp_path_factory.mktemp("landing")))
        wipe(pg, redis_client, neo4j_driver, chroma_client)
        for dag_id, conf in (
            ("price_ingestion", PRICES),
            ("company_graph", {"provider": "offline"}),
            ("market_events", EVENTS),
        ):
            assert dagbag.dags[dag_id].test(run_conf=conf).state == "success", dag_id
        yield dagbag


def run_stats(pg, pipeline):
    return pg.execute(
        "SELECT stats FROM ingestion_run WHERE pipeline = %s ORDER BY run_id DESC LIMIT 1", (pipeline,)
    ).fetchone()[0]


def test_competitors_sectors_and_the_fed_cascade(built, neo4j_driver):
    with neo4j_driver.session() as s:

        def competes(a, b):
            return s.run(
                "MATCH (:Company {symbol: $a})-[r:COMPETES_WITH]-(:Company {symbol: $b}) RETURN count(r) AS n", a=a, b=b
            ).single()["n"]

        assert competes("XOM", "CVX") == 1
        assert competes("JPM", "BAC") == 1
        sectors = s.run(
            "MATCH (c:Company) OPTIONAL MATCH (c)-[:BELONGS_TO]->(x:Sector) RETURN c.symbol AS symbol, count(x) AS n"
        ).data()
        assert len(sectors) == 20 and {r["n"] for r in sectors} == {1}
        reached = s.run(
            "MATCH (e:MarketEvent {event_type: 'fed_decision', date: date('2022-06-15')})"
            " MATCH p = shortestPath((e)-[*..3]-(c:Company {symbol: 'JPM'})) RETURN length(p) AS hops"
        ).single()
        assert reached is not None and reached["hops"] <= 3
        # Company and Stock are one node
        assert s.run("MATCH (c:Company) WHERE NOT c:Stock RETURN count(c) AS n").single()["n"] == 0


def test_every_affected_by_impact_matches_the_ledger(built, pg, neo4j_driver):
    ledger_impacts = dict(pg.execute("SELECT event_id, impact FROM market_event WHERE symbol IS NOT NULL").fetchall())
    with neo4j_driver.session() as s:
        graph_impacts = {
            r["id"]: r["impact"]
            for r in s.run(
                "MATCH (:Company)-[r:AFFECTED_BY]->(e:MarketEvent) RETURN e.event_id AS id, r.impact AS impact"
            )
        }
    assert ledger_impacts and graph_impacts == ledger_impacts
    types = dict(pg.execute("SELECT source, min(event_type) FROM market_event GROUP BY source").fetchall())
    assert types == {"fomc": "fed_decision", "price_move": "price_move"}


def test_projections_of_companies_and_events(built, pg, redis_client, chroma_client):
    import json

    meta = json.loads(redis_client.get("company:JPM:metadata"))
    assert (meta["sector"], meta["industry"]) == ("Financials", "Diversified Banks")
    assert redis_client.ttl("company:JPM:metadata") > 0
    macro = redis_client.zrange("market_event:macro:recent", 0, -1)
    assert len(macro) == 8  # the 2022 FOMC decisions
    assert chroma_client.get_collection("companies").count() == 20
    assert (
        chroma_client.get_collection("market_events").count()
        == pg.execute("SELECT count(*) FROM market_event").fetchone()[0]
    )


def test_a_rerun_changes_nothing_and_asks_the_analyst_nothing(built, pg, neo4j_driver, chroma_client):
    before = graph_counts(neo4j_driver)
    tables = pg.execute(
        "SELECT (SELECT count(*) FROM market_event), (SELECT count(*) FROM company_competitor),"
        " (SELECT count(*) FROM analyst_judgement)"
    ).fetchone()
    for dag_id, conf in (("company_graph", {"provider": "offline"}), ("market_events", EVENTS)):
        assert built.dags[dag_id].test(run_conf=conf).state == "success"
    assert run_stats(pg, "company_graph")["competitors"]["analyst"]["analyst_calls"] == 0
    assert run_stats(pg, "market_events")["classification"]["analyst"]["analyst_calls"] == 0
    assert run_stats(pg, "market_events")["classification"]["analyst"]["cache_hits"] == tables[0]
    assert graph_counts(neo4j_driver) == before
    assert (
        pg.execute(
            "SELECT (SELECT count(*) FROM market_event), (SELECT count(*) FROM company_competitor),"
            " (SELECT count(*) FROM analyst_judgement)"
        ).fetchone()
        == tables
    )


def test_bad_events_are_rejected_or_stored_inertly_and_the_batch_lands(built, pg, neo4j_driver, tmp_path):
    from axiom.analysts.judge import judge_from_env

    injection_title = "Buy now'); DROP TABLE market_event; -- MATCH (n) DETACH DELETE n"
    rows = [
        {
            "source": "test",
            "source_id": "good-1",
            "symbol": "AAPL",
            "occurred_at": "2022-05-02",
            "title": "Apple unveils a new product line",
            "summary": "Launch event.",
        },
        {
            "source": "test",
            "source_id": "inert-1",
            "symbol": "MSFT",
            "occurred_at": "2022-05-03",
            "title": injection_title,
            "summary": "}) DETACH DELETE n //",
        },
        {"source": "test", "source_id": "no-date", "symbol": "AAPL", "occurred_at": None, "title": "Undated"},
        {"source": "test", "source_id": "unknown", "symbol": "ZZZZ", "occurred_at": "2022-05-02", "title": "Who?"},
        {"source": "test", "source_id": "huge", "symbol": "AAPL", "occurred_at": "2022-05-02", "title": "x" * 100_000},
        {
            "source": "test",
            "source_id": "sym-inj",
            "symbol": "AAPL'}) DETACH DELETE n //",
            "occurred_at": "2022-05-02",
            "title": "Symbol injection",
        },
    ]
    before = graph_counts(neo4j_driver)["nodes"]
    run_id = events.collect(pg, events.EventParams(), rows=rows)
    events.classify(pg, run_id, judge=judge_from_env(pg))
    events.graph_events(pg, run_id, driver=neo4j_driver)

    stats = ledger.runs.get_run(pg, run_id).stats
    assert stats["accepted"] == 2 and stats["rejected"] == 4
    reasons = dict(
        pg.execute(
            "SELECT payload->>'source_id', reason FROM rejected_row WHERE last_run_id = %s", (run_id,)
        ).fetchall()
    )
    assert reasons == {
        "no-date": "missing or unparseable date",
        "unknown": "unknown symbol",
        "huge": "title missing or longer than 1,000 characters",
        "sym-inj": "malformed symbol",
    }
    assert pg.execute("SELECT title FROM market_event WHERE source_id = 'inert-1'").fetchone()[0] == injection_title
    with neo4j_driver.session() as s:
        assert s.run("MATCH (e:MarketEvent {title: $t}) RETURN count(e) AS n", t=injection_title).single()["n"] == 1
    after = {r["label"]: r["n"] for r in graph_counts(neo4j_driver)["nodes"]}
    assert after["MarketEvent"] == {r["label"]: r["n"] for r in before}["MarketEvent"] + 2
    assert after["Company"] == 20


def test_bad_fundamentals_are_rejected_with_reasons(built, pg):
    from axiom.pipelines import companies
    from axiom.sources.companies import offline_fundamentals

    good = offline_fundamentals(["KO"])[0]
    rows = [
        good,
        {**good, "symbol": "KO; DROP"},
        {**good, "symbol": "PEPX", "name": ""},
        {**good, "symbol": "KOX", "market_cap_usd": -5},
    ]
    run_id = companies.load_fundamentals(pg, companies.CompanyParams(), rows=rows)
    assert ledger.runs.get_run(pg, run_id).stats["reject_reasons"] == {
        "malformed symbol": 1,
        "name missing or longer than 200 characters": 1,
        "market cap must be a positive number": 1,
    }
    assert pg.execute("SELECT count(*) FROM company_fundamentals").fetchone()[0] == 20


def test_fed_decisions_are_announced_on_their_own_channel(built, pg, redis_client):
    from axiom.stores import cache
    from tests.support import Subscriber

    run_id = pg.execute(
        "SELECT max(run_id) FROM ingestion_run WHERE pipeline = 'market_events' AND origin IS NOT NULL"
    ).fetchone()[0]  # the DAG's run, not a test's
    fed, everything = (
        Subscriber(redis_client, cache.FED_DECISION_UPDATES),
        Subscriber(redis_client, cache.MARKET_EVENT_UPDATES),
    )
    try:
        events.announce(pg, run_id, redis_client=redis_client)
    finally:
        fed.close()
        everything.close()
    assert sorted(m["date"] for m in fed.messages) == [
        "2022-01-26", "2022-03-16", "2022-05-04", "2022-06-15", "2022-07-27", "2022-09-21", "2022-11-02", "2022-12-14"
    ]  # fmt: skip
    assert {m["event_type"] for m in fed.messages} == {"fed_decision"} and len(everything.messages) > len(fed.messages)
    assert all(m["run_id"] == run_id for m in fed.messages)
