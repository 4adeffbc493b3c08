"""Live fundamentals and news from yfinance, against objects shaped like its real answers.

Only the network object is replaced (``yfinance.Ticker``); Axiom's parsing runs for real.
"""

from __future__ import annotations

import pandas as pd
import pytest
import yfinance

from axiom.sources.companies import yfinance_fundamentals
from axiom.sources.events import yfinance_news


class FakeTicker:
    """What ``yfinance.Ticker(symbol)`` exposes: ``.info`` (a dict) and ``.news`` (a list of dicts)."""

    def __init__(self, symbol):
        self.info = {
            "longName": "Apple Inc.",
            "sector": "Technology",
            "industry": "Consumer Electronics",
            "longBusinessSummary": "Designs smartphones.",
            "marketCap": 3_000_000_000_000,
            "debtToEquity": 151.9,
        }
        self.news = [
            {
                "id": "abc-123",
                "content": {
                    "id": "abc-123",
                    "contentType": "STORY",
                    "title": f"{symbol} beats earnings estimates",
                    "summary": "Revenue rose.",
                    "pubDate": "2024-05-03T20:30:00Z",
                    "provider": {"displayName": "Reuters"},
                },
            }
        ]


def test_ticker_info_becomes_a_fundamentals_row(monkeypatch):
    monkeypatch.setattr(yfinance, "Ticker", FakeTicker)
    [row] = yfinance_fundamentals(["AAPL"])
    assert (row["symbol"], row["name"], row["sector"], row["market_cap_usd"]) == (
        "AAPL",
        "Apple Inc.",
        "Technology",
        3_000_000_000_000,
    )
    assert row["debt_to_equity"] == pytest.approx(1.519)  # Yahoo reports percent
    assert row["source"] == "yfinance Ticker.info"


def test_ticker_news_becomes_event_rows(monkeypatch):
    monkeypatch.setattr(yfinance, "Ticker", FakeTicker)
    [row] = yfinance_news(["MSFT"])
    assert row["source"] == "yfinance_news" and row["source_id"] == "abc-123"
    assert (row["symbol"], row["title"], row["occurred_at"]) == (
        "MSFT",
        "MSFT beats earnings estimates",
        "2024-05-03T20:30:00Z",
    )
    assert row["facts"] == {"publisher": "Reuters"}


def test_epoch_seconds_are_read_as_seconds(monkeypatch):
    class OlderNews(FakeTicker):
        def __init__(self, symbol):
            super().__init__(symbol)
            self.news = [{"uuid": "x-1", "title": "Apple beats", "providerPublishTime": 1714768200, "id": "x-1"}]

    monkeypatch.setattr(yfinance, "Ticker", OlderNews)
    [row] = yfinance_news(["AAPL"])
    assert row["occurred_at"] == pd.Timestamp("2024-05-03 20:30:00", tz="UTC")
