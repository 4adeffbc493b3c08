"""Correlation matrices: Pearson on simple returns, pairwise-complete, one pass for many dates."""

from __future__ import annotations

import numpy as np
import pandas as pd

from axiom.analytics.correlation import correlations_at, month_ends, returns_matrix


def long_closes(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.rename_axis("ts").reset_index().melt(id_vars="ts", var_name="symbol", value_name="close").dropna()


def prices(seed=1, days=120, symbols=("A", "B", "C")) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    index = pd.bdate_range("2022-01-03", periods=days, tz="UTC")
    common = rng.normal(0, 0.01, days)
    data = {s: 100 * np.cumprod(1 + common * (i + 1) / 3 + rng.normal(0, 0.01, days)) for i, s in enumerate(symbols)}
    return pd.DataFrame(data, index=index)


def test_matches_pandas_on_the_same_window():
    wide = prices()
    (m,) = correlations_at(returns_matrix(long_closes(wide)), [wide.index[-1]], 30)
    expected = wide.pct_change().iloc[-30:].corr()
    np.testing.assert_allclose(m.coefficients, expected.to_numpy(), atol=1e-12)
    assert (m.observations == 30).all()


def test_gaps_are_pairwise_complete_and_short_pairs_are_skipped():
    wide = prices()
    wide.iloc[-25:-5, 2] = np.nan  # C misses 20 sessions: its returns around the gap are missing, not filled
    (m,) = correlations_at(returns_matrix(long_closes(wide)), [wide.index[-1]], 30)
    returns = wide.pct_change(fill_method=None).iloc[-30:]
    assert m.observations[0, 2] == returns[["A", "C"]].dropna().shape[0] < 30
    np.testing.assert_allclose(m.coefficients[0, 2], returns["A"].corr(returns["C"]), atol=1e-12)
    pairs = {(a, b): (r, n) for a, b, r, n in m.pairs(min_observations=24)}
    assert pairs["A", "C"][0] is None and pairs["A", "B"][0] is not None


def test_month_ends_are_the_last_session_of_each_month():
    index = pd.bdate_range("2022-01-03", "2022-04-20", tz="UTC")
    assert [d.date().isoformat() for d in month_ends(index, "2022-02-01", "2022-12-31")] == [
        "2022-02-28",
        "2022-03-31",
        "2022-04-20",
    ]
