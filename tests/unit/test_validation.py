"""Validation keeps every good row and gives every bad row a reason."""

from __future__ import annotations

import math

import pandas as pd

from axiom.validation import validate_bars


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
        ("XOM", "negative or non-finite volume"),
        ("XOM", "timestamp in the future"),
        ("XOM", "missing or unparseable timestamp"),
    ]
    # payloads are JSON-safe copies of the raw rows, NaN spelled out
    assert rejects.payloads[0]["close"] == "nan"


def test_an_empty_batch_is_fine():
    accepted, rejects = validate_bars(pd.DataFrame(columns=["symbol", "ts", "close"]))
    assert accepted.empty and len(rejects) == 0
