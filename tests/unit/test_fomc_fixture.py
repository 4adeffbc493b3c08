"""The FOMC fixture: every change of the federal funds target from 1990 to 2022, consistent with itself."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date

import pandas as pd

from axiom.sources.events import FOMC_FIXTURE, abnormal_moves, fomc_decisions

DATA = json.loads(FOMC_FIXTURE.read_text())


def test_every_change_follows_from_the_target_before_it():
    previous = 8.25  # the target at the end of 1989
    for d in DATA["decisions"]:
        assert d["change_bp"] == round((d["target_high"] - previous) * 100), d
        assert (
            d["target_low"] == d["target_high"]
            if d["date"] < "2008-12-16"
            else round((d["target_high"] - d["target_low"]) * 100) == 25
        )
        assert d["source"] and (d["scheduled"] is None) == (d["date"] < "1994-02-04")
        previous = d["target_high"]
    dates = [d["date"] for d in DATA["decisions"]]
    assert dates == sorted(dates) and len(set(dates)) == len(dates)


def test_the_record_counts_and_landmarks():
    per_year = Counter(d["date"][:4] for d in DATA["decisions"])
    assert (per_year["2001"], per_year["2004"] + per_year["2005"] + per_year["2006"], per_year["2020"]) == (11, 17, 2)
    assert not per_year.keys() & {"1993", "2009", "2014", "2021"}  # years without a change
    assert [d["date"] for d in DATA["decisions"] if d["scheduled"] is False] == [
        "1994-04-18", "1998-10-15", "2001-01-03", "2001-04-18", "2001-09-17", "2008-01-22", "2008-10-08",
        "2020-03-03", "2020-03-15",
    ]  # fmt: skip
    # the design's 2022 record: a hold, then hikes of 25, 50, 75, 75, 75, 75 and 50 bp to 4.25-4.50%
    in_2022 = [(d["change_bp"], d["target_high"]) for d in DATA["decisions"] if d["date"] >= "2022"]
    assert in_2022 == [(0, 0.25), (25, 0.5), (50, 1.0), (75, 1.75), (75, 2.5), (75, 3.25), (75, 4.0), (50, 4.5)]


def test_decisions_become_titled_events():
    [hike] = fomc_decisions("1994-11-15", "1994-11-15")
    assert hike["title"] == "FOMC raises the federal funds rate by 75 basis points to 5.50%"
    [floor] = fomc_decisions("2008-12-16", "2008-12-16")
    assert floor["title"] == "FOMC cuts the federal funds rate by 75 basis points to 0.00-0.25%"
    assert len(fomc_decisions("1990-01-01", "2022-12-31")) == 100


def test_abnormal_moves_of_a_span_without_prices_are_none():
    """A scheduled run over a week the ledger holds no closes of (a replay's Airflow in 2026) finds no event."""
    empty = pd.DataFrame({"symbol": pd.Series(dtype=str), "ts": pd.Series(dtype="datetime64[ns, UTC]"),
                          "close": pd.Series(dtype=float)})  # fmt: skip
    assert abnormal_moves(empty, k=5.0, window=60, start=date(2026, 11, 30), end=date(2026, 12, 4)) == []
