"""Price-pattern vectors keep what an analyst sees: the path, the volatility, the drawdown.

The analogue tests run on the real offline history (skfolio's 20 stocks, 1990-2022).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from axiom.analytics.patterns import PATH_SCALE, VOL_SCALE, pattern_vector, weekly_pattern_vectors, window_summary


def closes(symbol: str, values, start="2022-01-03") -> pd.DataFrame:
    ts = pd.bdate_range(start, periods=len(values), tz="UTC")
    return pd.DataFrame({"symbol": symbol, "ts": ts, "close": np.asarray(values, dtype=float)})


def test_one_vector_matches_a_hand_computation():
    rng = np.random.default_rng(7)
    prices = 100 * np.cumprod(1 + rng.normal(0, 0.01, 60))
    frame = closes("AAPL", prices)
    patterns = weekly_pattern_vectors(frame, window=30)
    meta, vector = patterns.metadatas[-1], patterns.embeddings[-1]
    i = int(np.flatnonzero(frame["ts"] == pd.Timestamp(meta["as_of"], tz="UTC"))[0])
    block = prices[i - 30 : i + 1]
    logs = np.log(block / block[0])
    steps = np.diff(logs)
    expected = [
        *(logs[t] / PATH_SCALE for t in (5, 10, 15, 20, 25, 30)),
        *(steps[-n:].std() * math.sqrt(252) / VOL_SCALE for n in (5, 10, 30)),
        (block / np.maximum.accumulate(block) - 1).min() / PATH_SCALE,
        (block / np.minimum.accumulate(block) - 1).max() / PATH_SCALE,
    ]
    np.testing.assert_allclose(vector, expected, rtol=1e-12)
    np.testing.assert_allclose(pattern_vector(prices[: i + 1], 30), vector, rtol=1e-12)
    assert meta["window_return"] == pytest.approx(block[-1] / block[0] - 1, abs=1e-6)


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


def test_range_limits_and_stale_windows():
    frame = pd.concat([closes("FLAT", [50.0] * 30), closes("UP", np.linspace(10, 20, 30) ** 1.1)])
    patterns = weekly_pattern_vectors(frame, window=5, start="2022-01-24", end="2022-02-04")
    assert {m["symbol"] for m in patterns.metadatas} == {"UP"}  # stale prices carry no shape
    assert [m["as_of"] for m in patterns.metadatas] == ["2022-01-28", "2022-02-04"]
    assert pattern_vector(np.full(40, 50.0), 30) is None


@pytest.mark.parametrize("n", [0, 3])
def test_too_short_a_history_gives_no_vectors(n):
    assert len(weekly_pattern_vectors(closes("AAPL", np.arange(1, n + 1)), window=5)) == 0
    assert pattern_vector(np.arange(1.0, n + 1), 5) is None


@pytest.fixture(scope="module")
def history():
    from skfolio.datasets import load_sp500_dataset

    wide = load_sp500_dataset()
    long = wide.rename_axis("ts").reset_index().melt(id_vars="ts", var_name="symbol", value_name="close")
    long["ts"] = pd.to_datetime(long["ts"]).dt.tz_localize("UTC")
    patterns = weekly_pattern_vectors(long.sort_values(["symbol", "ts"]).reset_index(drop=True))
    days = np.array([m["epoch_day"] for m in patterns.metadatas])
    return patterns, days


def nearest(history, i: int, k: int = 5) -> np.ndarray:
    """The k nearest windows that had ended at least 30 days before window i's end (no look-ahead)."""
    patterns, days = history
    eligible = np.flatnonzero(days <= days[i] - 30)
    distance = ((patterns.embeddings[eligible] - patterns.embeddings[i]) ** 2).sum(axis=1)
    return eligible[np.argsort(distance)[:k]]


def summary(history, i: int) -> tuple[float, float]:
    meta = history[0].metadatas[i]
    return meta["window_return"], meta["window_volatility"]


def test_analogues_are_much_closer_in_return_and_volatility_than_random_windows(history):
    days = history[1]
    rng = np.random.default_rng(11)
    queries = rng.choice(np.flatnonzero(days > days.min() + 2000), 200, replace=False)
    near, far = [], []
    for q in queries:
        ret, vol = summary(history, q)
        eligible = np.flatnonzero(days <= days[q] - 30)
        for group, picks in ((near, nearest(history, q)), (far, rng.choice(eligible, 5, replace=False))):
            group.extend((abs(summary(history, j)[0] - ret), abs(summary(history, j)[1] - vol)) for j in picks)
    near_r, near_v = np.median(near, axis=0)
    far_r, far_v = np.median(far, axis=0)
    assert near_r <= 0.3 * far_r, f"return: analogues {near_r:.4f} vs random {far_r:.4f} ({near_r / far_r:.2f}x)"
    assert near_v <= 0.35 * far_v, f"volatility: analogues {near_v:.4f} vs random {far_v:.4f} ({near_v / far_v:.2f}x)"


def index_of(history, symbol: str, as_of: str) -> int:
    return next(i for i, m in enumerate(history[0].metadatas) if m["symbol"] == symbol and m["as_of"] == as_of)


def test_a_crash_finds_crashes(history):
    crash = index_of(history, "AAPL", "2020-03-20")  # the week of 2020-03-23's window end
    assert summary(history, crash)[0] < -0.25
    for j in nearest(history, crash):
        ret, vol = summary(history, j)
        assert ret <= -0.15 and vol >= 0.5, history[0].metadatas[j]


def test_a_quiet_rise_finds_quiet_rises(history):
    quiet = index_of(history, "KO", "2017-06-30")
    ret, vol = summary(history, quiet)
    all_vols = [m["window_volatility"] for m in history[0].metadatas]
    assert ret > 0 and vol < np.percentile(all_vols, 25)
    for j in nearest(history, quiet):
        r, v = summary(history, j)
        assert r > 0 and v < np.median(all_vols), history[0].metadatas[j]


def test_window_summary_reads_like_a_chart():
    s = window_summary(np.array([100.0, 110.0, 88.0, 99.0]))
    assert s["return"] == pytest.approx(-0.01) and s["drawdown"] == pytest.approx(88 / 110 - 1)
    assert s["volatility"] > 0
