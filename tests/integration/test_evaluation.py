"""The walk-forward evaluation is point in time: bars added after its end change none of its results; the track
record an answer carries as of D uses no outcome that ended after D; the evaluation's divergences are the live
alerts' own."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from axiom import alerts, evaluation
from axiom.analysts.rules import RuleBasedAnalyst
from axiom.insights.ask import ask
from axiom.insights.common import Stores
from axiom.reads import wide
from axiom.stores import ledger

FIRST = {"symbols": [], "start": "2016-01-01", "end": "2021-03-31", "provider": "offline"}
LATER = {"symbols": [], "start": "2021-04-01", "end": "2022-12-31", "provider": "offline"}
PARAMS = evaluation.EvaluationParams(start=date(2019, 1, 1), end=date(2020, 12, 31), horizon=20)
AS_OF = date(2020, 6, 30)


@pytest.fixture(scope="module")
def loaded(dagbag, pg, redis_client, neo4j_driver, chroma_client, tmp_path_factory):
    from tests.support import wipe

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AXIOM_LANDING_DIR", str(tmp_path_factory.mktemp("landing")))
        wipe(pg, redis_client, neo4j_driver, chroma_client)
        for dag_id, conf in (("company_graph", {"provider": "offline"}), ("price_ingestion", FIRST)):
            assert dagbag.dags[dag_id].test(run_conf=conf).state == "success", dag_id
        yield dagbag


@pytest.fixture(scope="module")
def evaluated(loaded, pg):
    return evaluation.evaluate_buy(pg, PARAMS), evaluation.evaluate_divergences(pg, PARAMS)


def test_later_bars_change_no_result(loaded, evaluated, pg, tmp_path):
    verdicts, spreads = evaluated
    assert verdicts["observations"] == 24 * 20  # every month-end of 2019-2020, every symbol
    whole = verdicts["periods"]["2019-2020"]
    assert sum(r["n"] for r in whole["by_verdict"].values()) == whole["observations"] == 480
    assert {"score", "momentum", "reversal"} == set(whole["factors"])
    assert whole["factors"]["score"]["rank_ic"]["dates"] == 24
    assert spreads["divergences"] > 0 and spreads["periods"]["2019-2020"]["random"]["n"] > 100
    assert loaded.dags["price_ingestion"].test(run_conf=LATER).state == "success"
    assert evaluation.evaluate_buy(pg, PARAMS) == verdicts
    assert evaluation.evaluate_divergences(pg, PARAMS) == spreads
    stored = pg.execute("SELECT kind, results FROM signal_evaluation ORDER BY kind").fetchall()
    assert [k for k, _ in stored] == ["buy", "divergence"] and stored[0][1]["observations"] == 480
    for path in evaluation.charts(verdicts, spreads, tmp_path):
        assert path.stat().st_size > 10_000
    text = evaluation.headline(verdicts, spreads)
    assert "rank IC" in text and "matched random pairs" in text and "survivorship" in text and "Do & Faff" in text


def test_the_record_as_of_a_date_uses_only_outcomes_ended_by_then(evaluated, pg, redis_client, neo4j_driver,
                                                                  chroma_client):  # fmt: skip
    table = evaluation.buy_table(pg, PARAMS)  # the observations again, each with the session its outcome ended
    ended = table[table["ended_on"] <= AS_OF]
    assert len(table[(table["date"] <= AS_OF) & (table["ended_on"] > AS_OF)]) > 0  # some were still running
    record = ledger.signals.track_record(pg, "buy", as_of=AS_OF)
    assert record["all"]["n"] == len(ended) and record["all"]["last_ended"] <= AS_OF.isoformat()
    for verdict, group in ended.groupby("verdict"):
        assert record[verdict]["n"] == len(group)
        assert record[verdict]["mean"] == pytest.approx(group["forward"].mean(), abs=1e-6)
        assert record[verdict]["hit_rate"] == pytest.approx((group["forward"] > 0).mean(), abs=1e-4)
    assert ledger.signals.track_record(pg, "buy", as_of=date(2019, 1, 2)) == {}  # nothing had ended yet
    # the answer as of D carries that record, in words, and no later one
    stores = Stores(pg, redis_client, neo4j_driver, chroma_client)
    from axiom.analysts.judge import Judge

    answer = ask(stores, "buy", judge=Judge(pg, RuleBasedAnalyst()), subject="KO", as_of=AS_OF.isoformat(),
                 use_cache=False)  # fmt: skip
    label = answer.verdict.label
    [note] = [n for n in answer.notes if n.startswith(f"track record of {label} verdicts")]
    assert f"{record[label]['n']} evaluated" in note and f"all: {record['all']['n']}," in note
    edge = not (record[label]["low"] <= record["all"]["high"] and record["all"]["low"] <= record[label]["high"])
    assert ("no edge" in note) == (not edge)


def test_the_evaluated_divergences_are_the_live_alerts(evaluated, pg):
    spreads = evaluated[1]
    closes = wide(ledger.prices.closes(pg, ledger.prices.symbols(pg)))
    for found in spreads["alerts"][:5]:
        a, b, session, _ = found["id"].split(":")
        live = alerts.divergences(closes, [{"a": a, "b": b, "coefficient": 0.9}], date.fromisoformat(session),
                                  alerts.AlertParams())  # fmt: skip
        assert len(live) == 1, found["id"]
        assert (live[0]["z"], live[0]["beta"], live[0]["stats"]["pvalue"]) == (
            found["z"],
            found["beta"],
            found["pvalue"],
        )
    # and divergence outcomes are point in time too: the record as of a session counts exactly the outcomes ended by it
    table = evaluation.divergence_events(pg, PARAMS, alerts.AlertParams())
    qualified = table[table["group"] == alerts.QUALIFIED]
    middle = sorted(qualified["date"])[len(qualified) // 2]
    ended = int((qualified["ended_on"] <= middle).sum())
    assert 0 < ended < len(qualified)  # some had ended by then, some had not
    record = ledger.signals.track_record(pg, "divergence", as_of=middle)
    assert record[alerts.QUALIFIED]["n"] == ended and record[alerts.QUALIFIED]["last_ended"] <= middle.isoformat()


def test_the_interval_brackets_the_mean():
    r = evaluation.mean_interval(np.array([0.01, -0.02, 0.03, 0.0, 0.02]))
    assert r["low"] <= r["mean"] <= r["high"] and r["hit_rate"] == pytest.approx(0.6)
    assert evaluation.mean_interval(np.array([])) == {"n": 0}


def test_the_page_draws_the_newest_evaluation(evaluated, pg):
    """The API draws each evaluation's chart from the ledger (a PNG), behind the same authentication."""
    from airflow.api_fastapi.app import init_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
    from fastapi.testclient import TestClient

    from axiom_airflow.api import app

    token = init_auth_manager().generate_jwt(SimpleAuthManagerUser(username="axiom-test", role="viewer"))
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
        for kind in ("buy", "divergence"):
            stored = ledger.signals.latest_evaluation(pg, kind)  # JSONB reorders keys: the periods keep their order
            assert stored["order"] == [name for name, _, _ in evaluation.periods(PARAMS)]
            response = client.get(f"/api/evaluation/{kind}.png")
            assert response.status_code == 200, response.text[:300]
            assert response.headers["content-type"] == "image/png" and response.content[:8] == b"\x89PNG\r\n\x1a\n"
        assert client.get("/api/evaluation/other.png").status_code == 422
    with TestClient(app) as anonymous:
        assert anonymous.get("/api/evaluation/buy.png").status_code in (401, 403)
