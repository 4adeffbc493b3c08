"""Price-pattern vectors: z-scored simple-return windows ending on each ISO week's last session."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from axiom.analytics.patterns import weekly_pattern_vectors


def closes(symbol: str, values, start="2022-01-03") -> pd.DataFrame:
    ts = pd.bdate_range(start, periods=len(values), tz="UTC")
    return pd.DataFrame({"symbol": symbol, "ts": ts, "close": np.asarray(values, dtype=float)})


def test_one_window_matches_a_hand_computation():
    rng = np.random.default_rng(7)
    prices = 100 * np.cumprod(1 + rng.normal(0, 0.01, 60))
    frame = closes("AAPL", prices)
    patterns = weekly_pattern_vectors(frame, window=10)
    last_meta = patterns.metadatas[-1]
    end = pd.Timestamp(last_meta["as_of"], tz="UTC")
    i = frame.index[frame["ts"] == end][0]
    returns = prices[i - 9 : i + 1] / prices[i - 10 : i] - 1
    expected = (returns - returns.mean()) / returns.std()
    np.testing.assert_allclose(patterns.embeddings[-1], expected, rtol=1e-12)
    assert patterns.embeddings.shape[1] == 10
    np.testing.assert_allclose(patterns.embeddings.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(patterns.embeddings.std(axis=1), 1, rtol=1e-12)


def test_windows_end_on_the_last_session_of_each_iso_week_with_stable_ids():
    frame = closes("JPM", np.linspace(100, 140, 40) + np.sin(np.arange(40)))
    patterns = weekly_pattern_vectors(frame, window=5)
    ends = [pd.Timestamp(m["as_of"]) for m in patterns.metadatas]
    # business days starting on a Monday: every full week ends on a Friday; the last (partial) week on its last day
    assert all(d.dayofweek == 4 for d in ends[:-1])
    assert ends[-1] == frame["ts"].iloc[-1].tz_localize(None)
    assert patterns.ids[0] == f"price_pattern:JPM:{ends[0].isocalendar().year}-W{ends[0].isocalendar().week:02d}:5"
    assert len(set(patterns.ids)) == len(patterns.ids)
    assert weekly_pattern_vectors(frame, window=5).ids == patterns.ids
    assert {m["type"] for m in patterns.metadatas} == {"price_pattern"}
    assert {m["symbol"] for m in patterns.metadatas} == {"JPM"}


def test_range_limits_and_flat_windows():
    frame = pd.concat([closes("FLAT", [50.0] * 30), closes("UP", np.linspace(10, 20, 30) ** 1.1)])
    patterns = weekly_pattern_vectors(frame, window=5, start="2022-01-24", end="2022-02-04")
    assert {m["symbol"] for m in patterns.metadatas} == {"UP"}  # a constant series has no shape
    assert [m["as_of"] for m in patterns.metadatas] == ["2022-01-28", "2022-02-04"]


@pytest.mark.parametrize("n", [0, 3])
def test_too_short_a_history_gives_no_vectors(n):
    assert len(weekly_pattern_vectors(closes("AAPL", np.arange(1, n + 1)), window=5)) == 0
