"""The walk-forward evaluation is point in time: bars added after its end change none of its results."""

from __future__ import annotations

from datetime import date

import pytest

from axiom import evaluation

FIRST = {"symbols": [], "start": "2016-01-01", "end": "2021-03-31", "provider": "offline"}
LATER = {"symbols": [], "start": "2021-04-01", "end": "2022-12-31", "provider": "offline"}
PARAMS = evaluation.EvaluationParams(start=date(2019, 1, 1), end=date(2020, 12, 31), horizon=20)


@pytest.fixture(scope="module")
def loaded(dagbag, pg, redis_client, neo4j_driver, chroma_client, tmp_path_factory):
    from tests.support import wipe

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AXIOM_LANDING_DIR", str(tmp_path_factory.mktemp("landing")))
        wipe(pg, redis_client, neo4j_driver, chroma_client)
        for dag_id, conf in (("company_graph", {"provider": "offline"}), ("price_ingestion", FIRST)):
            assert dagbag.dags[dag_id].test(run_conf=conf).state == "success", dag_id
        yield dagbag


def test_later_bars_change_no_result(loaded, pg, tmp_path):
    verdicts = evaluation.evaluate_buy(pg, PARAMS)
    spreads = evaluation.evaluate_divergences(pg, PARAMS)
    assert verdicts["observations"] == 24 * 20  # every month-end of 2019-2020, every symbol
    assert sum(r["n"] for r in verdicts["by_verdict"].values()) == verdicts["observations"]
    assert spreads["divergences"] > 0 and spreads["base_rate"]["20"]["n"] > 100
    assert loaded.dags["price_ingestion"].test(run_conf=LATER).state == "success"
    assert evaluation.evaluate_buy(pg, PARAMS) == verdicts
    assert evaluation.evaluate_divergences(pg, PARAMS) == spreads
    stored = pg.execute("SELECT kind, results FROM signal_evaluation ORDER BY kind").fetchall()
    assert [k for k, _ in stored] == ["buy", "divergence"] and stored[0][1]["observations"] == 480
    evaluation.charts(verdicts, spreads, tmp_path / "evaluation.png")
    assert (tmp_path / "evaluation.png").stat().st_size > 10_000
    assert "within 20 sessions" in evaluation.headline(verdicts, spreads)


def test_the_interval_brackets_the_mean():
    import numpy as np

    r = evaluation.mean_interval(np.array([0.01, -0.02, 0.03, 0.0, 0.02]))
    assert r["low"] <= r["mean"] <= r["high"] and r["hit_rate"] == pytest.approx(0.6)
    assert evaluation.mean_interval(np.array([])) == {"n": 0}
