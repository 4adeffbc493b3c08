"""A pipeline's declared steps: a step says what it takes, and the list says what waits for what."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from axiom.config import Settings
from axiom.pipelines import companies, correlations, events, prices
from axiom.pipelines.steps import INCREMENT_DAYS, Step, chunks, upstream, writing
from axiom.stores.ledger.runs import RunScope


def test_a_step_declares_exactly_the_settings_it_takes():
    with pytest.raises(TypeError, match=r"cache_latest takes settings \['ttl_seconds'\], declared \[\]"):
        Step(prices.cache_latest, "redis")
    with pytest.raises(TypeError, match="validate takes no symbols"):
        Step(prices.validate, "landing", fan_out=True)
    with pytest.raises(ValueError, match="writes 'disk'"):
        Step(prices.validate, "disk")
    step = Step(prices.cache_latest, "redis", {"ttl_seconds": "latest_price_ttl"})
    assert step.clients == ["redis_client"]
    assert step.kwargs(Settings.from_env()) == {"ttl_seconds": Settings.from_env().latest_price_ttl}


def test_each_step_waits_for_the_one_before_it_unless_it_names_others():
    waits = upstream(prices.STEPS)
    assert waits["validate"] == () and waits["load"] == ("validate",)
    assert waits["cache_sector_momentum"] == ("record_sector_momentum",)
    assert set(waits["announce"]) == {s.name for s in prices.STEPS} - {"validate", "load", "record_sector_momentum",
                                                                       "announce"}  # fmt: skip
    with pytest.raises(ValueError, match="not listed before it"):
        upstream((Step(prices.load, "postgres", after=("validate",)), Step(prices.validate, "landing")))


def test_every_pipeline_announces_last_and_projects_every_store():
    for module in (prices, companies, events, correlations):
        assert module.STEPS[-1].name == "announce" and module.STEPS[-1].writes == "pubsub"
        for store in ("redis", "neo4j", "chroma"):
            assert writing(module.STEPS, store), f"{module.PIPELINE} writes nothing to {store}"


def test_a_backfill_fans_out_over_symbol_chunks_and_a_live_increment_is_one_task():
    symbols = tuple(f"S{i:03d}" for i in range(60))
    backfill = RunScope(symbols=symbols, start=date(2012, 1, 2), end=date(2022, 12, 30))
    assert chunks(backfill, size=25) == [list(symbols[:25]), list(symbols[25:50]), list(symbols[50:])]
    assert chunks(RunScope(symbols=symbols), size=25)[0] == list(symbols[:25])  # open dates: all history
    evening = RunScope(symbols=symbols, start=date(2020, 3, 2), end=date(2020, 3, 2))
    week = RunScope(symbols=symbols, start=date(2020, 3, 2), end=date(2020, 3, 2) + timedelta(days=INCREMENT_DAYS))
    assert chunks(evening, size=25) == chunks(week, size=25) == [list(symbols)]
    longer = RunScope(symbols=symbols, start=date(2020, 3, 2), end=date(2020, 3, 3) + timedelta(days=INCREMENT_DAYS))
    assert len(chunks(longer, size=25)) == 3
    assert chunks(RunScope(), size=25) == [[]]  # no symbols: one empty chunk, so the run still closes
    with pytest.raises(ValueError, match="at least one symbol"):
        chunks(evening, size=0)
