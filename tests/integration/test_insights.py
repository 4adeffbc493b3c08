"""The four questions answered from the real stores, point in time.

The stores are filled by the real DAGs up to 2022-06-30 (prices, events, month-end correlations);
answers as of earlier dates are taken, then the DAGs load the rest of the history (later bars, events
and correlations) and every answer is asked again: it must be identical, because nothing dated after
its as-of date may be read.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

import pytest

from axiom import connections
from axiom.analysts.judge import judge_from_env
from axiom.insights.ask import ask
from axiom.insights.common import Stores
from axiom.stores import graph

FIRST = {"symbols": [], "start": "2018-01-01", "end": "2022-06-30", "provider": "offline"}
LATER = {"symbols": [], "start": "2022-07-01", "end": "2022-12-31", "provider": "offline"}
EVENTS_FIRST = {"symbols": [], "start": "2018-03-01", "end": "2022-06-30", "k": 5.0, "window": 60}
EVENTS_LATER = {"symbols": [], "start": "2022-07-01", "end": "2022-12-31", "k": 5.0, "window": 60}
CORRELATIONS_FIRST = {"window": 30, "threshold": 0.7, "backfill_start": "2019-01-01", "backfill_end": "2022-06-30"}
CORRELATIONS_LATER = {"window": 30, "threshold": 0.7, "backfill_start": "2022-07-01", "backfill_end": "2022-12-31"}
QUESTIONS = [
    ("buy", "AAPL", "2022-06-15"),
    ("buy", "AAPL", "2020-03-23"),
    ("buy", "XOM", "2021-06-15"),
    ("buy", "JPM", "2019-08-30"),
    ("buy", "KO", "2020-11-09"),
    ("like", "AAPL", "2021-05-28"),
    ("like", "CVX", "2020-06-30"),
    ("rotation", None, "2020-04-30"),
    ("rotation", None, "2021-06-15"),
    ("cascade", "hike 50bp", "2021-06-15"),
    ("cascade", "2022-06-15", None),
]


def comparable(insight) -> dict:
    """Everything an answer says except how long it took."""
    body = insight.to_json()
    for key in ("total_ms", "latency_by_store", "cached", "data_version", "kept"):
        body.pop(key)
    for e in body["evidence"]:
        e.pop("latency_ms")
    return body


@pytest.fixture(scope="module")
def stores(dagbag, pg, redis_client, neo4j_driver, chroma_client, tmp_path_factory):
    from tests.support import wipe

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AXIOM_LANDING_DIR", str(tmp_path_factory.mktemp("landing")))
        wipe(pg, redis_client, neo4j_driver, chroma_client)
        for dag_id, conf in (
            ("company_graph", {"provider": "offline"}),
            ("price_ingestion", FIRST),
            ("market_events", EVENTS_FIRST),
            ("correlations", CORRELATIONS_FIRST),
        ):
            assert dagbag.dags[dag_id].test(run_conf=conf).state == "success", dag_id
        yield Stores(pg, redis_client, neo4j_driver, chroma_client)


def answer(stores, question, subject, as_of, **kw):
    return ask(stores, question, judge=judge_from_env(stores.conn), subject=subject, as_of=as_of, **kw)


def test_answers_are_point_in_time(stores, dagbag):
    before = {q: comparable(answer(stores, *q, use_cache=False)) for q in QUESTIONS}
    for dag_id, conf in (
        ("price_ingestion", LATER),
        ("market_events", EVENTS_LATER),
        ("correlations", CORRELATIONS_LATER),
    ):
        assert dagbag.dags[dag_id].test(run_conf=conf).state == "success", dag_id
    for q in QUESTIONS:
        after = comparable(answer(stores, *q, use_cache=False))
        for was, now in zip(before[q].pop("evidence"), after.pop("evidence"), strict=True):
            assert now == was, q
        assert after == before[q], q


def test_is_a_buy_shows_evidence_of_all_four_stores_with_latencies(stores):
    insight = answer(stores, "buy", "AAPL", "2020-03-23", use_cache=False)
    assert insight.as_of == date(2020, 3, 23) and insight.verdict.label in ("BUY", "HOLD", "SELL")
    assert {e.store for e in insight.evidence} == {"redis", "postgres", "neo4j", "chroma"}
    assert all(e.latency_ms > 0 and e.query for e in insight.evidence)
    assert insight.total_ms >= max(e.latency_ms for e in insight.evidence) > 0  # reads may overlap: not their sum
    closes = next(e for e in insight.evidence if e.what == "closes up to the as-of session").facts
    assert closes["close"] == pytest.approx(
        stores.conn.execute(
            "SELECT close FROM price_bar WHERE symbol = 'AAPL' AND ts = '2020-03-23T00:00:00Z'"
        ).fetchone()[0]
    )
    analogues = next(e for e in insight.evidence if e.store == "chroma").facts
    assert analogues and all(a["window_end"] < "2020-03-23" for a in analogues)
    # correlated peers: AAPL's strongest pairs in the newest stored 30-session matrix before the as-of
    correlated = next(e for e in insight.evidence if e.what.startswith("strongest correlations")).facts
    assert correlated["matrix"] == "2020-02-28"
    expected = stores.conn.execute(
        "SELECT CASE WHEN a = 'AAPL' THEN b ELSE a END, coefficient FROM correlation"
        " WHERE \"window\" = 30 AND as_of = '2020-02-28' AND 'AAPL' IN (a, b) ORDER BY abs(coefficient) DESC LIMIT 5"
    ).fetchall()
    assert expected and [c["symbol"] for c in correlated["pairs"]] == [symbol for symbol, _ in expected]
    assert [c["coefficient"] for c in correlated["pairs"]] == pytest.approx([r for _, r in expected], abs=1e-6)
    assert any(r.endswith("(30-session return correlation; not scored)") for r in insight.verdict.reasons)
    assert any("correlation matrix of 2020-02-28" in n for n in insight.notes)
    # the crash of March 2020: a downtrend and a stressed market, never a BUY
    assert insight.verdict.label != "BUY" and any("downtrend" in r for r in insight.verdict.reasons)


def test_the_same_question_twice_is_a_cache_hit_that_says_so(stores, redis_client):
    first = answer(stores, "like", "JPM", "2021-03-31")
    assert first.cached is None
    again = answer(stores, "like", "JPM", "2021-03-31")
    assert again.cached == "redis" and again.verdict == first.verdict
    for key in redis_client.scan_iter(match="insight:*"):
        redis_client.delete(key)
    from_ledger = answer(stores, "like", "JPM", "2021-03-31")
    assert from_ledger.cached == "ledger" and from_ledger.verdict == first.verdict
    assert (
        stores.conn.execute("SELECT count(*) FROM insight WHERE question = 'like' AND subject = 'JPM'").fetchone()[0]
        == 1
    )
    assert "BAC" in [r.name for r in first.verdict.ranking[:2]]


@pytest.mark.parametrize(
    ("question", "subject", "as_of", "error", "message"),
    [
        ("buy", "ZZZZ", None, LookupError, "ZZZZ has no daily prices"),
        ("buy", "AAPL; DROP TABLE price_bar", None, ValueError, "malformed symbols"),
        ("buy", "AAPL", "2030-01-02", ValueError, "after the ledger's newest session"),
        ("buy", "AAPL", "2017-06-30", ValueError, "before"),
        ("buy", "AAPL", "2018-02-01", ValueError, "too early"),
        ("buy", "AAPL", "2020-03-23T00:00", ValueError, "must be a date"),
        ("cascade", "2019-01-01", None, LookupError, "no Fed decision in the ledger on 2019-01-01"),
        ("rotation", None, "next week", ValueError, "must be a date"),
    ],
)
def test_a_question_that_cannot_be_answered_says_why(stores, question, subject, as_of, error, message):
    with pytest.raises(error, match=message):
        answer(stores, question, subject, as_of, use_cache=False)


def test_the_cli_prints_json_with_every_store(stores):
    done = subprocess.run(
        [sys.executable, "-m", "axiom", "ask", "buy", "MSFT", "--as-of", "2021-06-15", "--json", "--no-cache"],
        capture_output=True,
        text=True,
        check=True,
    )
    body = json.loads(done.stdout)
    assert body["question"] == "buy" and body["subject"] == "MSFT" and body["as_of"] == "2021-06-15"
    assert set(body["latency_by_store"]) == {"redis", "postgres", "neo4j", "chroma"}
    assert all(ms > 0 for ms in body["latency_by_store"].values())


def test_the_ask_dag_logs_and_keeps_the_answer(stores, dagbag):
    run = dagbag.dags["ask"].test(
        run_conf={"question": "rotation", "symbol": None, "as_of": "2021-06-15", "event": None}
    )
    assert run.state == "success"
    kept = stores.conn.execute("SELECT answer FROM insight WHERE question = 'rotation' AND as_of = '2021-06-15'")
    assert kept.fetchone()[0]["verdict"]["label"] == "RANKED"


def kept_rows(stores, question, subject, as_of) -> list[dict]:
    return [r[0] for r in stores.conn.execute(
        "SELECT answer FROM insight WHERE question = %s AND subject = %s AND as_of = %s", (question, subject, as_of)
    )]  # fmt: skip


def test_a_fallback_answer_is_kept_under_the_analyst_that_gave_it_and_never_served_as_claudes(stores):
    from axiom.analysts.judge import Judge
    from axiom.analysts.rules import RuleBasedAnalyst
    from tests.support import OVERLOADED, FakeAnthropic

    claude = FakeAnthropic(OVERLOADED)
    down = Judge(stores.conn, claude.analyst(max_retries=0), RuleBasedAnalyst())
    fallback = ask(stores, "buy", judge=down, subject="KO", as_of="2021-09-30")
    assert fallback.analyst == "rules" and fallback.kept
    assert any("the rules analyst answered: claude gave no valid answer" in n for n in fallback.notes)
    [row] = kept_rows(stores, "buy", "KO", "2021-09-30")
    assert row["analyst"] == "rules"
    # Claude first again: the rules' answer is not Claude's, so it is not read back: Claude is asked again
    asked = len(claude.requests)
    again = ask(stores, "buy", judge=down, subject="KO", as_of="2021-09-30")
    assert len(claude.requests) > asked and again.analyst == "rules"
    assert [r["analyst"] for r in kept_rows(stores, "buy", "KO", "2021-09-30")] == ["rules"]
    # with the rules first (no API key), the kept answer is the one read back
    rules_first = answer(stores, "buy", "KO", "2021-09-30")
    assert rules_first.cached == "redis" and rules_first.verdict == fallback.verdict


def test_a_new_load_of_data_makes_an_older_kept_answer_miss(stores, dagbag):
    first = answer(stores, "like", "XOM", "2021-09-30")
    assert answer(stores, "like", "XOM", "2021-09-30").cached == "redis"
    assert dagbag.dags["company_graph"].test(run_conf={"provider": "offline"}).state == "success"
    after = answer(stores, "like", "XOM", "2021-09-30")
    assert after.cached is None and after.data_version != first.data_version
    assert after.data_version["company_graph"][0] > first.data_version["company_graph"][0]
    assert len(kept_rows(stores, "like", "XOM", "2021-09-30")) == 2  # both kept, each under its own data version


def test_an_answer_whose_evidence_is_incomplete_says_so_and_is_not_kept(stores, redis_client):
    from axiom.pipelines import companies
    from axiom.stores import cache

    key = cache.company_metadata_key("MSFT")
    held = redis_client.get(key)
    redis_client.delete(key)  # expired
    try:
        insight = answer(stores, "buy", "MSFT", "2021-09-30")
        assert not insight.kept and any(f"incomplete: Redis holds no {key}" in n for n in insight.notes)
        assert kept_rows(stores, "buy", "MSFT", "2021-09-30") == []
        assert answer(stores, "buy", "MSFT", "2021-09-30").cached is None  # asked again: computed again
    finally:
        redis_client.set(key, held)
    assert companies.metadata_items(stores.conn, ["MSFT"])  # the ledger still knows it: a rebuild would bring it back


def test_two_first_asks_at_once_leave_the_ledger_and_redis_agreeing(stores, redis_client):
    import threading

    from axiom.stores import cache

    results, barrier = [], threading.Barrier(2)

    def ask_once():
        with connections.postgres() as conn, connections.neo4j() as driver:
            mine = Stores(conn, connections.redis(), driver, connections.chroma())
            barrier.wait()
            results.append(answer(mine, "buy", "JPM", "2021-10-29"))

    threads = [threading.Thread(target=ask_once) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    [kept] = kept_rows(stores, "buy", "JPM", "2021-10-29")
    cached = [json.loads(redis_client.get(k)) for k in redis_client.scan_iter(match=cache.insight_key("*"))]
    assert kept in cached
    assert results[0].to_json()["total_ms"] == results[1].to_json()["total_ms"] == kept["total_ms"]


def test_asking_rotation_writes_nothing_to_the_graph(stores, neo4j_driver):
    before = graph.projected(neo4j_driver)
    assert before["ROTATES_TO"], "the pipelines draw the rotation edges"
    insight = answer(stores, "rotation", None, "2021-04-30", use_cache=False)
    assert graph.projected(neo4j_driver) == before
    drawn = next(e for e in insight.evidence if e.store == "neo4j").facts
    assert drawn and all(p["as_of"] == "2021-04-30" for p in drawn)


def test_an_empty_graph_is_a_clear_error(stores, neo4j_driver):
    """Last in this module: it empties the (test instance's) graph."""
    assert graph.database_name(neo4j_driver) == connections.TEST_DATABASES["neo4j"]
    graph.delete_all(neo4j_driver)
    with pytest.raises(LookupError, match="the graph reaches no company"):
        answer(stores, "cascade", "hike 25bp", "2020-06-30", use_cache=False)
