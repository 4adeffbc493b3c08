"""A pipeline's declared steps: a step says what it takes, and the list says what waits for what."""

from __future__ import annotations

import pytest

from axiom.config import Settings
from axiom.pipelines import companies, correlations, events, prices
from axiom.pipelines.steps import Step, upstream, writing


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
