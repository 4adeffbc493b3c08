"""The correlation backfill equals an independent recomputation (pandas, pairwise-complete) on
every window: gapless ones, symbols not listed yet, scattered gaps, constant and short series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from axiom.analytics.correlation import correlations_at, month_ends

WINDOW = 30


def returns_with_gaps(seed=3, sessions=480, symbols=12) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    index = pd.bdate_range("2015-01-02", periods=sessions, tz="UTC")
    market = rng.normal(0, 0.01, sessions)
    data = market[:, None] * rng.uniform(0.5, 1.5, symbols) + rng.normal(0, 0.01, (sessions, symbols))
    frame = pd.DataFrame(data, index=index, columns=[f"S{i:02d}" for i in range(symbols)])
    frame.iloc[:250, 1] = np.nan  # listed late: no returns at all in the early windows
    frame.iloc[:90, 2] = np.nan  # listed late
    frame.iloc[rng.choice(380, 40, replace=False), 3] = np.nan  # scattered missing sessions
    frame.iloc[rng.choice(380, 8, replace=False), 4] = np.nan
    frame.iloc[100:380, 5] = np.nan  # one or two returns in some windows
    frame.iloc[200:240, 6] = 0.0  # constant (a halted price) in some windows
    frame.iloc[300:330, 7] = 0.0
    frame.iloc[310, 7] = np.nan
    return frame  # gapless from session 380 on


def recomputed(returns: pd.DataFrame, as_of, window: int) -> tuple[pd.DataFrame, np.ndarray]:
    block = returns.loc[:as_of].iloc[-window:]
    valid = block.notna().to_numpy(dtype=float)
    return block.corr(min_periods=2), valid.T @ valid


def test_every_month_end_matches_pandas_pairwise_complete():
    returns = returns_with_gaps()
    dates = month_ends(returns.index)
    matrices = correlations_at(returns, dates, WINDOW)
    paths = {"gapless": 0, "gapped": 0}
    for d, m in zip(dates, matrices, strict=True):
        expected, counts = recomputed(returns, d, WINDOW)
        assert m.as_of == d and m.symbols == list(returns.columns)
        np.testing.assert_allclose(m.coefficients, expected.to_numpy(), atol=1e-12, rtol=0)
        np.testing.assert_array_equal(m.observations, counts)
        paths["gapped" if (counts < counts.max()).any() else "gapless"] += 1
    assert paths["gapless"] and paths["gapped"]  # both paths were exercised


@pytest.mark.parametrize("offset", [0, 1, 2, 29, 31])
def test_windows_at_the_start_of_history(offset):
    returns = returns_with_gaps()
    (m,) = correlations_at(returns, [returns.index[offset]], WINDOW)
    expected, counts = recomputed(returns, returns.index[offset], WINDOW)
    np.testing.assert_allclose(m.coefficients, expected.to_numpy(), atol=1e-12, rtol=0)
    np.testing.assert_array_equal(m.observations, counts)


def test_listing_only_gaps_take_the_corrcoef_path_and_agree():
    returns = returns_with_gaps().iloc[:, :3].copy()
    returns.iloc[:, 0] = returns.iloc[:, 0].fillna(0.001)
    (m,) = correlations_at(returns, [returns.index[120]], WINDOW)
    expected, _ = recomputed(returns, returns.index[120], WINDOW)
    assert np.isnan(m.coefficients[1]).all() and m.observations[1].sum() == 0
    np.testing.assert_allclose(m.coefficients, expected.to_numpy(), atol=1e-12, rtol=0)


def test_one_pass_equals_one_date_at_a_time():
    returns = returns_with_gaps()
    dates = month_ends(returns.index)
    together = correlations_at(returns, dates, WINDOW)
    for d, m in zip(dates, together, strict=True):
        (alone,) = correlations_at(returns, [d], WINDOW)
        np.testing.assert_array_equal(alone.coefficients, m.coefficients)
        np.testing.assert_array_equal(alone.observations, m.observations)
