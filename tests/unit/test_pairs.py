"""Pair statistics and factor ICs against independent recomputations on small series whose answer is known."""

from __future__ import annotations

import itertools
import math
from datetime import date

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats
from statsmodels.tsa.adfvalues import mackinnonp
from statsmodels.tsa.stattools import adfuller

from axiom.alerts import AlertParams
from axiom.analytics.pairs import PairStats, half_life, pair_stats, rolling_z
from axiom.evaluation import ic_summary, information_coefficients, spread_outcome, terciles


def ou(lam: float, n: int, seed: int, sigma: float = 0.01) -> np.ndarray:
    """x_t = x_{t-1} + lam x_{t-1} + e_t: an Ornstein-Uhlenbeck spread in discrete time, half-life -ln 2 / lam."""
    rng = np.random.default_rng(seed)
    x = np.zeros(n)
    for t in range(1, n):
        x[t] = x[t - 1] + lam * x[t - 1] + sigma * rng.standard_normal()
    return x


def walk(n: int, seed: int) -> np.ndarray:
    """A log-price random walk."""
    return 4 + np.cumsum(np.random.default_rng(seed).normal(0, 0.01, n))


@pytest.mark.parametrize("lam", [-0.05, -0.1, -0.3])
def test_the_half_life_of_a_simulated_ou_spread_is_recovered(lam):
    x = ou(lam, 5000, seed=3)
    assert half_life(x) == pytest.approx(-math.log(2) / lam, rel=0.15)
    # the same regression, by hand: delta x on [1, x_{t-1}]
    design = np.column_stack([np.ones(len(x) - 1), x[:-1]])
    fitted = np.linalg.lstsq(design, np.diff(x), rcond=None)[0][1]
    assert half_life(x) == pytest.approx(-math.log(2) / fitted, rel=1e-9)


def test_a_spread_that_does_not_pull_back_has_no_half_life():
    assert half_life(ou(0.01, 500, seed=4)) is None


def test_a_cointegrated_pair_has_a_small_p_value_and_two_random_walks_a_large_one():
    n = 250
    lb = walk(n, seed=1)
    la = 0.3 + 1.2 * lb + ou(-0.3, n, seed=2)
    found = pair_stats(np.exp(la), np.exp(lb), formation=n)
    assert found.pvalue < 0.01 and found.hedge == pytest.approx(1.2, abs=0.05)
    # independent walks: the p-value is spread over (0, 1), rarely small
    apart = [pair_stats(np.exp(walk(n, seed=s)), np.exp(walk(n, seed=100 + s)), formation=n).pvalue for s in range(20)]
    assert np.median(apart) > 0.2 and sum(p <= 0.05 for p in apart) <= 3
    # the p-value again, from its parts: OLS residuals, their ADF statistic, MacKinnon's cointegration table
    slope, intercept = np.polyfit(lb, la, 1)
    residuals = la - intercept - slope * lb
    statistic = adfuller(residuals, regression="n", autolag="AIC", maxlag=None)[0]
    assert found.pvalue == pytest.approx(mackinnonp(statistic, regression="c", N=2), rel=1e-6)
    assert (found.hedge, found.intercept) == pytest.approx((slope, intercept), rel=1e-9)


def test_z_crossings_and_the_exit_price_from_first_principles():
    n = 150
    lb = walk(n, seed=8)
    la = 0.1 + 0.9 * lb + ou(-0.2, n, seed=9)
    found = pair_stats(np.exp(la), np.exp(lb), formation=120)
    slope, intercept = np.polyfit(lb[-120:], la[-120:], 1)
    spread = la[-120:] - intercept - slope * lb[-120:]
    assert found.z == pytest.approx(spread[-1] / spread.std(ddof=1), rel=1e-9)
    crossings = sum(1 for x, y in itertools.pairwise(spread) if x * y < 0)
    assert found.crossings == crossings
    # at the exit price, a's log is back on the fitted line: the spread is zero
    exit_a = found.exit_price_a(math.exp(lb[-1]))
    assert math.log(exit_a) - intercept - slope * lb[-1] == pytest.approx(0, abs=1e-9)
    assert found.time_stop(2) == math.ceil(2 * found.half_life)
    # the evaluation's screen is the same z, session by session
    z = rolling_z(np.exp(la), np.exp(lb), 120)
    for t in (119, 130, 149):
        assert z[t] == pytest.approx(pair_stats(np.exp(la[: t + 1]), np.exp(lb[: t + 1]), 120).z, rel=1e-7)
    assert np.isnan(z[:119]).all()
    assert pair_stats(np.exp(la[:100]), np.exp(lb[:100]), 120) is None


def test_a_divergence_needs_z_cointegration_and_a_half_life_in_bounds():
    base = {"pvalue": 0.01, "hedge": 1.0, "intercept": 0.0, "spread": 0.1, "sigma": 0.04, "z": 2.5,
            "half_life": 5.0, "crossings": 10, "formation": 120}  # fmt: skip
    params = AlertParams()
    assert params.qualifies(PairStats(**base))
    for change in ({"z": 1.5}, {"pvalue": 0.2}, {"half_life": None}, {"half_life": 45.0}, {"half_life": 0.5}):
        assert not params.qualifies(PairStats(**{**base, **change})), change
    with pytest.raises(ValueError, match="half-lives"):
        AlertParams(min_half_life=10, max_half_life=5)
    with pytest.raises(ValueError, match="max_pvalue"):
        AlertParams(max_pvalue=0)


def test_a_spread_trade_closes_at_the_mean_and_pays_its_costs():
    stats = PairStats(pvalue=0.01, hedge=1.0, intercept=0.0, spread=0.1, sigma=0.04, z=2.5, half_life=3.0,
                      crossings=9, formation=120)  # fmt: skip
    # a rich by 10% at t=0; at t=1 still rich (entry), at t=3 back on b (converged on the third session)
    a = np.array([110.0, 110.0, 105.0, 100.0, 100.0, 100.0])
    b = np.full(6, 100.0)
    out = spread_outcome(a, b, 0, stats, horizon=5, k=2, cost_bp=10)
    assert (out["converged"], out["sessions"], out["within_half_lives"], out["traded"]) == (True, 3, True, True)
    # short $1 of a from 110 to 100, long $1 of b flat: (10/110) / 2 of gross, less 2 x 10 bp
    assert out["value"] == pytest.approx((10 / 110) / 2 - 0.002)
    assert out["held"] == 2 and out["ended"] == 3
    assert spread_outcome(a, b, 1, stats, horizon=5, k=2, cost_bp=10) is None  # its horizon has not passed


def test_information_coefficients_match_scipy_per_date():
    rng = np.random.default_rng(11)
    rows = []
    for d in pd.date_range("2020-01-31", periods=12, freq="ME"):
        score = rng.integers(-3, 4, 20).astype(float)
        rows += [{"date": d.date(), "symbol": f"S{i}", "score": s, "forward": 0.01 * s + rng.normal(0, 0.05)}
                 for i, s in enumerate(score)]  # fmt: skip
    table = pd.DataFrame(rows)
    ics = information_coefficients(table, "score")
    assert len(ics) == 12
    for (day, g), row in zip(table.groupby("date"), ics.itertuples(), strict=True):
        assert row.date == day
        assert row.ic == pytest.approx(scipy_stats.pearsonr(g["score"], g["forward"])[0], rel=1e-9)
        assert row.rank_ic == pytest.approx(scipy_stats.spearmanr(g["score"], g["forward"])[0], rel=1e-9)
    summary = ic_summary(ics["rank_ic"])
    assert summary["icir"] == pytest.approx(ics["rank_ic"].mean() / ics["rank_ic"].std(ddof=1))
    assert summary["t"] == pytest.approx(summary["icir"] * math.sqrt(12))
    assert summary["mean"] > 0.2  # the score was built to predict
    flat = table.assign(score=1.0)
    assert information_coefficients(flat, "score").empty  # a constant score ranks nothing


def test_terciles_share_ties():
    table = pd.DataFrame({"date": [date(2020, 1, 31)] * 6, "score": [1.0, 1.0, 2.0, 3.0, 3.0, 3.0]})
    assert terciles(table, "score").tolist() == [1, 1, 2, 3, 3, 3]


def test_the_live_screen_changes_no_decision():
    """``alerts.divergence`` skips the full statistics when the closed-form z is below the threshold: on pairs
    whose z lands on either side of it (and on it), the alerts are those of the full statistics alone."""
    from axiom.alerts import divergence

    rng = np.random.default_rng(11)
    params, session = AlertParams(), date(2020, 3, 2)
    decided = {True: 0, False: 0}
    for _ in range(400):
        common = np.cumsum(rng.normal(0, 0.01, 200))
        spread = np.zeros(200)  # mean-reverting, a half-life of about 5 sessions
        for t in range(1, 200):
            spread[t] = 0.87 * spread[t - 1] + rng.normal(0, 0.01)
        la, lb = common + spread, common.copy()
        la[-1] += rng.normal(0, 0.03)
        a, b = np.exp(la), np.exp(lb)
        stats = pair_stats(a, b, params.formation)
        full = stats is not None and params.qualifies(stats)
        found = divergence({"a": "A", "b": "B", "coefficient": 0.9}, a, b, session, params)
        assert (found is not None) == full
        decided[full] += 1
        if full:
            edge = (a, b, stats)
    assert decided[True] > 10 and decided[False] > 100
    # a qualifying pair whose |z| is exactly the threshold still alerts (the screen keeps a margin)
    a, b, stats = edge
    at = AlertParams(z_threshold=abs(stats.z))
    assert at.qualifies(stats) and divergence({"a": "A", "b": "B", "coefficient": 0.9}, a, b, session, at)
