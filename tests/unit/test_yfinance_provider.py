"""The yfinance provider against frames shaped exactly like ``yfinance.download`` output.

Only the network call is replaced: ``yfinance.download`` returns what Yahoo's parsed answer looks
like (columns ``(Price, Ticker)``, a timezone-aware index), so Axiom's parsing really runs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yfinance
from yfinance.exceptions import YFRateLimitError

from axiom.sources.prices import ProviderError, YFinanceProvider

PRICE_FIELDS = ["Close", "High", "Low", "Open", "Volume"]


def yahoo_frame(tickers, index):
    """A frame laid out as yfinance 1.x returns it for several tickers (auto_adjust=True)."""
    columns = pd.MultiIndex.from_product([PRICE_FIELDS, sorted(tickers)], names=["Price", "Ticker"])
    values = np.empty((len(index), len(columns)))
    for j, (field, ticker) in enumerate(columns):
        base = 100.0 + 10 * sorted(tickers).index(ticker) + np.arange(len(index))
        values[:, j] = {
            "Close": base,
            "High": base + 1,
            "Low": base - 1,
            "Open": base - 0.5,
            "Volume": 1_000_000 + np.arange(len(index)),
        }[field]
    return pd.DataFrame(values, index=index, columns=columns)


def daily_index(start, periods):
    return pd.DatetimeIndex(pd.bdate_range(start, periods=periods), name="Date").tz_localize("America/New_York")


def test_daily_bars_are_parsed_to_session_dates_in_utc(monkeypatch):
    calls = []

    def fake_download(tickers, **kwargs):
        calls.append((tickers, kwargs))
        return yahoo_frame(tickers, daily_index("2024-03-04", 3))

    monkeypatch.setattr(yfinance, "download", fake_download)
    bars = YFinanceProvider().fetch(
        ["MSFT", "AAPL"], pd.Timestamp("2024-03-04").date(), pd.Timestamp("2024-03-06").date()
    )

    assert calls[0][1]["auto_adjust"] is True and calls[0][1]["ignore_tz"] is False
    assert calls[0][0] == ["AAPL", "MSFT"]  # one batched call
    assert len(bars) == 6
    aapl = bars[bars["symbol"] == "AAPL"].sort_values("ts")
    assert aapl["ts"].tolist() == [pd.Timestamp(d, tz="UTC") for d in ("2024-03-04", "2024-03-05", "2024-03-06")]
    first = aapl.iloc[0]
    assert (first["open"], first["high"], first["low"], first["close"], first["volume"]) == (
        99.5,
        101,
        99,
        100,
        1_000_000,
    )
    assert set(bars["interval"]) == {"1d"}


def test_intraday_bars_keep_their_start_converted_to_utc(monkeypatch):
    index = pd.DatetimeIndex(["2024-03-04 09:30", "2024-03-04 09:35"], name="Datetime").tz_localize("America/New_York")
    monkeypatch.setattr(yfinance, "download", lambda tickers, **kw: yahoo_frame(tickers, index))
    bars = YFinanceProvider().fetch(["AAPL"], None, None, interval="5m")
    assert bars["ts"].tolist() == [
        pd.Timestamp("2024-03-04 14:30", tz="UTC"),
        pd.Timestamp("2024-03-04 14:35", tz="UTC"),
    ]


def test_rate_limits_back_off_then_succeed(monkeypatch):
    attempts, sleeps = [], []

    def flaky(tickers, **kwargs):
        attempts.append(tickers)
        if len(attempts) < 3:
            raise YFRateLimitError()
        return yahoo_frame(tickers, daily_index("2024-03-04", 2))

    monkeypatch.setattr(yfinance, "download", flaky)
    monkeypatch.setattr("axiom.sources.prices.time.sleep", sleeps.append)
    bars = YFinanceProvider().fetch(["AAPL"], None, None)
    assert len(attempts) == 3 and sleeps == [2.0, 4.0]
    assert len(bars) == 2


def test_giving_up_says_what_to_do(monkeypatch):
    def limited(tickers, **kwargs):
        raise YFRateLimitError()

    monkeypatch.setattr(yfinance, "download", limited)
    monkeypatch.setattr("axiom.sources.prices.time.sleep", lambda s: None)
    with pytest.raises(ProviderError, match=r"after 4 attempts.*provider=offline"):
        YFinanceProvider().fetch(["AAPL"], None, None)


def test_a_missing_symbol_is_retried_and_the_rest_kept(monkeypatch):
    def partial(tickers, **kwargs):
        frame = yahoo_frame(tickers, daily_index("2024-03-04", 2))
        frame.loc[:, (slice(None), "NOPE")] = np.nan  # yfinance leaves failed tickers as all-NaN columns
        return frame

    monkeypatch.setattr(yfinance, "download", partial)
    monkeypatch.setattr("axiom.sources.prices.time.sleep", lambda s: None)
    bars = YFinanceProvider().fetch(["AAPL", "NOPE"], None, None)
    assert set(bars["symbol"]) == {"AAPL"}
