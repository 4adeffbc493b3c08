"""The cascade's reactions to rate hikes against a plain loop over days and symbols."""

from datetime import date

import numpy as np
import pandas as pd

from axiom.insights.cascade import AFTER, _reactions


def loop(closes: pd.DataFrame, days: list[date]) -> dict[str, dict]:
    on_day, after = {s: [] for s in closes}, {s: [] for s in closes}
    for day in days:
        later = [i for i, ts in enumerate(closes.index) if ts.date() >= day]
        if not later:
            continue
        i = later[0]
        if i == 0 or i + AFTER >= len(closes) or (closes.index[i].date() - day).days > 4:
            continue
        for s in closes:
            p, t, n = closes[s].iloc[i - 1], closes[s].iloc[i], closes[s].iloc[i + AFTER]
            if np.isfinite([p, t, n]).all():
                on_day[s].append(t / p - 1)
                after[s].append(n / t - 1)
    return {
        s: {
            "hikes": len(after[s]),
            "hike_day_mean": np.mean(on_day[s]),
            "next5_mean": np.mean(after[s]),
            "down_share": np.mean(np.array(after[s]) < 0),
        }
        for s in closes
        if after[s]
    }


def test_reactions_equal_a_plain_loop():
    rng = np.random.default_rng(3)
    index = pd.bdate_range("2020-01-01", periods=120, tz="UTC")
    closes = pd.DataFrame(100 * np.exp(rng.normal(0, 0.02, (120, 6)).cumsum(axis=0)), index=index,
                          columns=list("ABCDEF"))  # fmt: skip
    closes.iloc[10:40, 2] = np.nan  # a gap in one symbol
    closes.iloc[:, 5] = np.nan  # a symbol with no prices at all
    days = [date(2019, 12, 1), date(2020, 1, 1), date(2020, 1, 4), date(2020, 2, 12), date(2020, 2, 12),
            date(2020, 3, 20), date(2020, 6, 10), date(2020, 6, 30), date(2021, 1, 1)]  # fmt: skip
    got, want = _reactions(closes, days), loop(closes, days)
    assert set(got) == set(want) == set("ABCDE")
    for s in want:
        assert got[s]["hikes"] == want[s]["hikes"] > 0
        for key in ("hike_day_mean", "next5_mean", "down_share"):
            assert abs(got[s][key] - want[s][key]) < 1e-12, (s, key)
    assert _reactions(closes, []) == {}
