"""The synthetic universe: deterministic for a seed, named synthetic, consistent OHLCV, sector structure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from axiom.pipelines.companies import RULES
from axiom.sources import synthetic
from axiom.sources.companies import fetch_fundamentals
from axiom.sources.prices import OfflineProvider, ProviderError, SyntheticProvider, get_provider
from axiom.validation import SYMBOL_PATTERN, split_rows, validate_bars


@pytest.fixture(scope="module")
def universe() -> synthetic.Universe:
    return synthetic.generate(symbols=60, years=3, seed=7)


def test_the_same_seed_writes_the_same_universe_and_another_seed_does_not(universe):
    again = synthetic.generate(symbols=60, years=3, seed=7)
    pd.testing.assert_frame_equal(universe.bars, again.bars)
    pd.testing.assert_frame_equal(universe.companies, again.companies)
    assert universe.manifest == again.manifest
    other = synthetic.generate(symbols=60, years=3, seed=8)
    assert not np.allclose(other.bars["close"].to_numpy()[:100], universe.bars["close"].to_numpy()[:100])


def test_symbols_are_synthetic_valid_and_never_the_offline_tickers(universe):
    symbols = set(universe.bars["symbol"])
    assert symbols == set(universe.manifest["symbols"]) == set(universe.companies["symbol"])
    assert all(s.startswith("SYN") and s[3:].isdigit() and SYMBOL_PATTERN.fullmatch(s) for s in symbols)
    offline = set(OfflineProvider().universe())
    assert len(offline) == 20 and not symbols & offline


def test_companies_say_they_are_synthetic_and_pass_the_pipeline_rules(universe):
    rows = universe.companies.to_dict(orient="records")
    good, rejects = split_rows(rows, RULES)
    assert len(good) == len(rows) and not len(rejects)
    for row in rows:
        assert "Synthetic" in row["name"] and "not a real business" in row["description"]
        assert row["source"].startswith("synthetic")
    assert universe.manifest["synthetic"] is True


def test_ohlcv_is_consistent_and_passes_validation(universe):
    bars = universe.bars
    assert (bars["low"] <= bars[["open", "close"]].min(axis=1)).all()
    assert (bars["high"] >= bars[["open", "close"]].max(axis=1)).all()
    assert (bars[["open", "high", "low", "close"]] > 0).all().all() and (bars["volume"] > 0).all()
    accepted, rejects = validate_bars(bars.assign(interval="1d"))
    assert len(accepted) == len(bars) and not len(rejects)


def test_within_sector_correlation_exceeds_cross_sector(universe):
    returns = universe.bars.pivot(index="ts", columns="symbol", values="close").pct_change(fill_method=None)
    corr = returns.corr().to_numpy()
    sectors = universe.companies.set_index("symbol").loc[returns.columns, "sector"].to_numpy()
    same = sectors[:, None] == sectors[None, :]
    off_diagonal = ~np.eye(len(sectors), dtype=bool)
    within, across = np.nanmean(corr[same & off_diagonal]), np.nanmean(corr[~same])
    assert within > across + 0.05


def test_crashes_regimes_and_late_listings_are_there(universe):
    market = universe.bars.pivot(index="ts", columns="symbol", values="close").pct_change(fill_method=None).mean(axis=1)
    assert universe.manifest["crashes"] and 0 < universe.manifest["turbulent_share"] < 1
    for day in universe.manifest["crashes"]:
        assert market.loc[pd.Timestamp(day, tz="UTC") :].iloc[:8].sum() < -0.05
    first = universe.bars.groupby("symbol")["ts"].min()
    assert (first > first.min()).sum() == universe.manifest["late_listings"]


def test_provider_and_fundamentals_read_what_synth_wrote(universe, tmp_path, monkeypatch):
    synthetic.write(universe, tmp_path)
    monkeypatch.setenv("AXIOM_SYNTHETIC_DIR", str(tmp_path))
    provider = get_provider("synthetic")
    assert isinstance(provider, SyntheticProvider) and provider.name == "synthetic" and provider.adjusted
    assert provider.universe() == universe.manifest["symbols"]
    frame = provider.fetch(["SYN0002", "SYN0005"], pd.Timestamp("2021-06-01").date(), None)
    assert set(frame["symbol"]) == {"SYN0002", "SYN0005"} and (frame["interval"] == "1d").all()
    assert frame["ts"].min() >= pd.Timestamp("2021-06-01", tz="UTC")
    assert [r["symbol"] for r in fetch_fundamentals("synthetic", ["SYN0003"])] == ["SYN0003"]


def test_a_missing_universe_says_how_to_make_one(tmp_path):
    with pytest.raises(ProviderError, match="python -m axiom synth"):
        SyntheticProvider(folder=tmp_path).fetch(None, None, None)
