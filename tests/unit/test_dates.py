"""One date parser for every entry point (API, CLI, DAG Params): a calendar date in Axiom's range, or a reason."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from axiom.validation import parse_date


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2022-06-15", date(2022, 6, 15)), (" 2022-06-15 ", date(2022, 6, 15)), (date(1990, 1, 2), date(1990, 1, 2)),
     ("1900-01-01", date(1900, 1, 1)), ("2199-12-31", date(2199, 12, 31)), (None, None), ("", None)],
)  # fmt: skip
def test_a_date_is_taken(value, expected):
    assert parse_date(value, "as_of") == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("0001-01-01", "outside the dates Axiom works with"),  # its windows run off the calendar
        (date(1, 1, 1), "outside the dates"),
        ("9999-12-31", "outside the dates"),
        ("1655251200", "must be a date like"),  # an epoch number, as text
        (1655251200, "must be a date like"),
        ("2022-06-15T00:00:00", "must be a date like"),
        (datetime(2022, 6, 15), "not a timestamp"),
        (pd.Timestamp("2022-06-15"), "not a timestamp"),
        ("20220615", "must be a date like"),
        ("２０２２-０６-１５", "must be a date like"),  # digits of another script
        ("2022-02-30", "must be a date like"),
        (True, "must be a date like"),
    ],
)
def test_anything_else_is_refused_with_the_reason(value, reason):
    with pytest.raises(ValueError, match=reason):
        parse_date(value, "as_of")
