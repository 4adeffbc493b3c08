"""The rule-based analyst's answers to users' questions follow the thresholds its docstring documents."""

from __future__ import annotations

import pytest

from axiom.analysts.base import AnalystError, check_insight
from axiom.analysts.rules import RuleBasedAnalyst

RULES = RuleBasedAnalyst()


def trend(close=100.0, sma20=100.0, sma60=100.0, return_60=0.0, drawdown_60=0.0, volatility_20=0.2, return_20=0.0):
    return {
        "close": close,
        "sma5": close,
        "sma20": sma20,
        "sma60": sma60,
        "return_5": 0.0,
        "return_20": return_20,
        "return_60": return_60,
        "volatility_20": volatility_20,
        "drawdown_60": drawdown_60,
    }


def buy(t, analogues=None, events=(), peer_lead=None):
    facts = {"trend": t, "analogues": analogues or {"count": 0}, "events": list(events), "peer_lead_20": peer_lead}
    return RULES.answer("buy", {**facts, "candidates": []})


UP = {"count": 10, "median": 0.02, "hit_rate": 0.7, "p25": 0.0, "p75": 0.04, "horizon": 20}
DOWN = {"count": 10, "median": -0.03, "hit_rate": 0.3, "p25": -0.05, "p75": 0.0, "horizon": 20}


def test_uptrend_momentum_and_rising_analogues_make_a_buy():
    answer = buy(trend(close=110, sma20=105, sma60=100, return_60=0.08), UP)
    assert answer.label == "BUY" and answer.confidence == pytest.approx(0.8)
    assert any("uptrend" in r for r in answer.reasons) and "rule total +3.0" in answer.reasons[-1]


def test_downtrend_in_a_crash_is_a_sell():
    answer = buy(trend(close=70, sma20=85, sma60=100, return_60=-0.3, drawdown_60=-0.3, volatility_20=0.9))
    assert answer.label == "SELL" and answer.confidence == pytest.approx(0.8)


@pytest.mark.parametrize(("return_60", "signal"), [(0.0501, "(+1)"), (0.05, None), (-0.05, None), (-0.0501, "(-1)")])
def test_momentum_counts_only_beyond_five_percent(return_60, signal):
    reasons = [r for r in buy(trend(return_60=return_60)).reasons if "momentum" in r]
    assert reasons == ([] if signal is None else [f"60-session momentum {return_60:+.1%} {signal}"])


def test_analogues_need_five_windows_and_a_clear_hit_rate():
    flat = trend()
    assert not any("similar past" in r for r in buy(flat, {**UP, "count": 4}).reasons)
    assert not any("similar past" in r for r in buy(flat, {**UP, "hit_rate": 0.54}).reasons)
    assert any("(+1)" in r and "similar past" in r for r in buy(flat, UP).reasons)
    assert any("(-1)" in r and "similar past" in r for r in buy(flat, DOWN).reasons)


def test_events_and_peers_move_the_total():
    bad_news = [{"impact": 0.8, "sentiment": -0.5}]
    answer = buy(trend(close=90, sma20=95, sma60=100), events=bad_news, peer_lead=-0.03)
    assert answer.label == "SELL" and "rule total -2.5" in answer.reasons[-1]


def test_rotation_ranks_by_the_documented_score():
    sectors = [
        {"sector": "Energy", "rs_20": 0.05, "rs_60": 0.03, "score": 0.04},
        {"sector": "Financials", "rs_20": -0.04, "rs_60": 0.06, "score": -0.06},
        {"sector": "Health Care", "rs_20": 0.01, "rs_60": -0.06, "score": 0.03},
    ]
    answer = RULES.answer("rotation", {"sectors": sectors, "candidates": [s["sector"] for s in sectors]})
    assert [r.name for r in answer.ranking] == ["Energy", "Health Care", "Financials"]
    assert answer.reasons[0] == "rotating into strength: Energy, Health Care"
    assert answer.reasons[1] == "losing relative strength: Financials"


def test_cascade_ranks_the_deepest_post_hike_losses_first():
    companies = [
        {"symbol": "KO", "next5_mean": 0.004, "hike_day_mean": 0.001, "down_share": 0.4, "hikes": 20},
        {"symbol": "HD", "next5_mean": -0.02, "hike_day_mean": -0.01, "down_share": 0.7, "hikes": 20},
        {"symbol": "NEW", "sensitivity": 0.3},  # no history: not ranked
    ]
    answer = RULES.answer("cascade", {"companies": companies, "hikes": 20, "candidates": ["HD", "KO", "NEW"]})
    assert [r.name for r in answer.ranking] == ["HD", "KO"]
    assert answer.confidence == pytest.approx(0.55)


def test_like_scores_follow_the_documented_weights():
    facts = [
        {"symbol": "MSFT", "description_distance": 0.4, "competition": 0.8, "same_sector": True, "coefficient": 0.5},
        {"symbol": "KO", "description_distance": 0.3, "competition": 0.0, "same_sector": False, "coefficient": -0.2},
    ]
    answer = RULES.answer("like", {"candidates": ["MSFT", "KO"], "candidates_facts": facts})
    scores = {r.name: r.score for r in answer.ranking}
    assert scores["MSFT"] == pytest.approx(0.45 * 0.6 + 0.25 * 0.8 + 0.30 * 0.5)
    assert scores["KO"] == pytest.approx(0.45 * 0.7)


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ({"label": "MAYBE", "confidence": 0.5, "ranking": [], "reasons": ["x"]}, "label 'MAYBE'"),
        ({"label": "RANKED", "confidence": 0.5, "ranking": [{"name": "ZZZ", "score": 1, "reason": "x"}],
          "reasons": ["x"]}, "not a distinct candidate"),
        ({"label": "RANKED", "confidence": 1.5, "ranking": [], "reasons": ["x"]}, "confidence 1.5"),
        ({"label": "RANKED", "confidence": 0.5, "ranking": [], "reasons": []}, "one to eight"),
        ({"label": "RANKED", "confidence": 0.5, "ranking": [{"name": "KO", "score": 1, "reason": ["a list"]}],
          "reasons": ["x"]}, "reason is missing or not text"),
    ],
)  # fmt: skip
def test_an_answer_that_breaks_the_contract_is_refused(answer, reason):
    with pytest.raises(AnalystError, match=reason):
        check_insight(answer, "like", ["KO", "MSFT"])
