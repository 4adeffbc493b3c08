"""The offline provider reads skfolio's shipped file itself (no skfolio import on a task's path): the same frame."""

from __future__ import annotations

import pandas as pd

from axiom.sources.prices import OfflineProvider


def test_the_offline_closes_are_skfolios_dataset_exactly():
    from skfolio.datasets import load_sp500_dataset

    pd.testing.assert_frame_equal(OfflineProvider()._closes(), load_sp500_dataset())


def test_the_offline_provider_serves_only_the_asked_range_and_no_invented_columns():
    bars = OfflineProvider().fetch(
        ["AAPL", "XOM"], pd.Timestamp("2020-03-02").date(), pd.Timestamp("2020-03-06").date()
    )
    assert sorted(bars["symbol"].unique()) == ["AAPL", "XOM"]
    assert [d.date().isoformat() for d in sorted(bars["ts"].unique())] == [
        "2020-03-02", "2020-03-03", "2020-03-04", "2020-03-05", "2020-03-06"
    ]  # fmt: skip
    assert bars[["open", "high", "low", "volume"]].isna().all().all() and bars["close"].notna().all()
