"""Validation keeps every good row and gives every bad row a reason."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest

from axiom.validation import parse_date, parse_dates, parse_symbols, validate_bars


def bar(symbol="AAPL", ts="2022-01-03", close=100.0, **extra):
    row = {
        "symbol": symbol,
        "interval": "1d",
        "ts": pd.Timestamp(ts, tz="UTC"),
        "open": math.nan,
        "high": math.nan,
        "low": math.nan,
        "close": close,
        "volume": math.nan,
    }
    row.update(extra)
    return row


def reasons_by_symbol(rejects):
    return [(p["symbol"], r) for p, r in zip(rejects.payloads, rejects.reasons, strict=True)]


def test_good_rows_pass_typed_and_in_utc():
    accepted, rejects = validate_bars(pd.DataFrame([bar(), bar(ts="2022-01-04", close=101.5)]))
    assert len(rejects) == 0
    assert accepted["close"].tolist() == [100.0, 101.5]
    assert str(accepted["ts"].dt.tz) == "UTC"
    assert accepted["open"].isna().all()  # missing columns stay missing, never invented


def test_each_bad_row_gets_its_reason_and_good_rows_stay():
    batch = pd.DataFrame(
        [
            bar(symbol="AAPL", ts="2022-01-03"),
            bar(symbol="AAPL", ts="2022-01-04", close=math.nan),
            bar(symbol="MSFT", ts="2022-01-03", close=-5.0),
            bar(symbol="AAPL", ts="2022-01-03", close=999.0),
            bar(symbol="AA PL'; DROP TABLE price_bar;--", ts="2022-01-05"),
            bar(symbol="XOM", ts="2022-01-03", open=10.0, high=9.0, low=11.0, close=10.0),
            bar(symbol="XOM", ts="2022-01-04", volume=-1),
            bar(symbol="XOM", ts="2199-01-01"),
            bar(symbol="XOM", ts=None),
            bar(symbol="MSFT", ts="2022-01-04", close=300.0),
        ]
    )
    accepted, rejects = validate_bars(batch, now=pd.Timestamp("2026-11-23", tz="UTC"))
    assert list(zip(accepted["symbol"], accepted["close"], strict=True)) == [("AAPL", 100.0), ("MSFT", 300.0)]
    assert reasons_by_symbol(rejects) == [
        ("AAPL", "close is missing or not a finite number"),
        ("MSFT", "non-positive or non-finite price"),
        ("AAPL", "duplicate (symbol, interval, ts) in batch"),
        ("AA PL'; DROP TABLE price_bar;--", "malformed symbol"),
        ("XOM", "high/low inconsistent with open/close"),
        ("XOM", "negative, non-finite or impossible volume"),
        ("XOM", "timestamp in the future"),
        ("XOM", "missing or unparseable timestamp"),
    ]
    # payloads are JSON-safe copies of the raw rows, NaN spelled out
    assert rejects.payloads[0]["close"] == "nan"


def test_an_empty_batch_is_fine():
    accepted, rejects = validate_bars(pd.DataFrame(columns=["symbol", "ts", "close"]))
    assert accepted.empty and len(rejects) == 0


@pytest.mark.parametrize("text", ["2022-01-31", " 2022-01-31 "])
def test_a_date_is_parsed_exactly(text):
    assert parse_date(text, "start") == date(2022, 1, 31)


@pytest.mark.parametrize("text", ["2022-01-31T10:00", "2022-01-31garbage", "2022-13-01", "31/01/2022", "20220131", 5])
def test_anything_but_an_exact_date_is_refused_with_its_name(text):
    with pytest.raises(ValueError, match="start must be a date like 2022-01-31"):
        parse_date(text, "start")


def test_dates_may_be_open_but_not_reversed():
    assert parse_dates(None, "2022-01-31") == (None, date(2022, 1, 31))
    with pytest.raises(ValueError, match="since 2022-02-01 is after until 2022-01-31"):
        parse_dates("2022-02-01", "2022-01-31", ("since", "until"))


def test_symbols_are_normalised_and_malformed_ones_refused():
    assert parse_symbols("msft, aapl AAPL") == ["AAPL", "MSFT"]
    assert parse_symbols([]) is None
    with pytest.raises(ValueError, match="malformed symbols"):
        parse_symbols(["AAPL'); DROP TABLE price_bar; --"])
    with pytest.raises(ValueError, match="list of tickers"):
        parse_symbols({"AAPL": 1})
