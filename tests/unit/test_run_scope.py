"""A run's scope is typed: it round-trips through its JSON, and a misspelt field fails at once."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from axiom.stores.ledger.runs import RunScope


def test_scope_round_trips_through_json():
    scope = RunScope(
        symbols=("AAPL", "MSFT"),
        start=date(2022, 1, 3),
        end=date(2022, 12, 28),
        window=30,
        as_ofs=(date(2022, 11, 30), date(2022, 12, 28)),
        event_ids=(4, 7),
        landing=Path("/tmp/landing/run-1"),
        adjusted=False,
        changed=True,
        rebased=("AAPL",),
    )
    assert RunScope.from_json(scope.to_json()) == scope
    assert scope.latest_as_of == date(2022, 12, 28)
    assert RunScope().latest_as_of is None


def test_an_unknown_scope_field_is_refused():
    with pytest.raises(ValueError, match=r"unknown run scope fields \['symbol'\]"):
        RunScope.from_json({"symbol": ["AAPL"]})
