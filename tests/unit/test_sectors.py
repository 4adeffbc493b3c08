"""Sector momentum per session, against a plain recomputation one session and one symbol at a time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from axiom.analytics.sectors import HORIZONS, sector_history, sector_table


@pytest.fixture
def universe():
    rng = np.random.default_rng(11)
    sessions = pd.date_range("2021-01-04", periods=140, freq="B", tz="UTC")
    symbols = [f"S{i:02d}" for i in range(10)]
    closes = pd.DataFrame(
        100 * np.exp(np.cumsum(rng.normal(0, 0.02, (len(sessions), len(symbols))), axis=0)),
        index=sessions,
        columns=symbols,
    )
    closes.iloc[:90, 2] = np.nan  # listed late
    closes.iloc[120:, 5] = np.nan  # delisted
    closes.iloc[[70, 71, 100], 7] = np.nan  # missing sessions
    sectors = {s: ("Energy", "Financials", "Utilities")[i % 3] for i, s in enumerate(symbols) if s != "S09"}
    return closes, sectors  # S09 has no company: it is no member of any sector


def plain(closes: pd.DataFrame, sectors: dict[str, str], i: int) -> dict[str, dict]:
    members = [s for s in closes.columns if s in sectors]
    r = {h: {s: closes[s].iloc[i] / closes[s].iloc[i - h] - 1 for s in members} for h in HORIZONS}
    out = {}
    for sector in sorted(set(sectors.values())):
        mine = [s for s in members if sectors[s] == sector]
        row = {}
        for h in HORIZONS:
            own = [r[h][s] for s in mine if not np.isnan(r[h][s])]
            every = [r[h][s] for s in members if not np.isnan(r[h][s])]
            row[f"r_{h}"] = np.mean(own) if own else np.nan
            row[f"rs_{h}"] = row[f"r_{h}"] - np.mean(every)
        row["score"] = row["rs_20"] - row["rs_60"] / 3
        row["members"] = sum(not np.isnan(closes[s].iloc[i]) for s in mine)
        out[sector] = row
    return out


def test_every_session_equals_a_plain_recomputation(universe):
    closes, sectors = universe
    history = sector_history(closes, sectors)
    sessions = history.index.get_level_values("session").unique()
    assert sessions[0] == closes.index[max(HORIZONS)] and sessions[-1] == closes.index[-1]
    for i in (max(HORIZONS), 71, 95, 100, 121, len(closes) - 1):
        got = history.xs(closes.index[i], level="session")
        for sector, row in plain(closes, sectors, i).items():
            for column, value in row.items():
                np.testing.assert_allclose(got.loc[sector, column], value, rtol=1e-12, err_msg=f"{i} {sector} {column}")


def test_the_table_at_a_session_is_that_session_of_the_history(universe):
    closes, sectors = universe
    upto = closes.iloc[:101]
    pd.testing.assert_frame_equal(
        sector_table(upto, sectors), sector_history(closes, sectors).xs(closes.index[100], level="session")
    )
    with pytest.raises(ValueError, match="61 sessions"):
        sector_table(closes.iloc[:60], sectors)
    assert sector_history(closes.iloc[:60], sectors).empty
