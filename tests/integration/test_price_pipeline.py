"""Pipeline 1 end to end: `dag.test()` of the real DAG against the real four stores."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest

from axiom.analytics.patterns import REPRESENTATION, pattern_vector
from axiom.sources.prices import OfflineProvider
from axiom.stores import cache
from tests.support import Subscriber

SYMBOLS = ["AAPL", "JPM", "XOM"]
CONF = {"symbols": SYMBOLS, "start": "2022-01-01", "end": "2022-12-31", "provider": "offline"}


def snapshot(pg, redis_client, neo4j_driver, price_patterns) -> dict:
    """Every count and value the pipeline wrote, to compare two runs."""
    bars = pg.execute(
        "SELECT count(*), md5(string_agg(concat_ws('|', symbol, interval, ts, open, high, low, close, volume, source),"
        " ',' ORDER BY symbol, interval, ts)) FROM price_bar"
    ).fetchone()
    keys = sorted(k.decode() for k in redis_client.scan_iter(match="price:*:latest"))
    with neo4j_driver.session() as session:
        stocks = session.run(
            "MATCH (s:Stock) RETURN s.symbol AS symbol, s.close AS price, toString(s.ts) AS updated ORDER BY symbol"
        ).data()
    vectors = price_patterns.get(include=["metadatas", "embeddings"])
    order = sorted(range(len(vectors["ids"])), key=vectors["ids"].__getitem__)
    return {
        "bars": bars,
        "redis": {k: redis_client.get(k) for k in keys},
        "stocks": stocks,
        "vector_ids": [vectors["ids"][i] for i in order],
        "vector_metadata": [vectors["metadatas"][i] for i in order],
        "vector_sum": float(sum(abs(vectors["embeddings"][i]).sum() for i in order)),
    }


@pytest.fixture(scope="module")
def expected_bars():
    raw = OfflineProvider().fetch(SYMBOLS, date(2022, 1, 1), date(2022, 12, 31))
    return raw.sort_values(["symbol", "ts"])


def test_dag_run_lands_in_all_four_stores_and_a_rerun_changes_nothing(
    dagbag, clean_stores, pg, redis_client, neo4j_driver, price_patterns, expected_bars, monkeypatch
):
    monkeypatch.setenv("AXIOM_SYMBOL_CHUNK", "2")  # the per-symbol projections fan out over [AAPL, JPM] and [XOM]
    dag = dagbag.dags["price_ingestion"]
    subscriber = Subscriber(redis_client, cache.PRICE_UPDATES)
    try:
        run = dag.test(run_conf=CONF)
    finally:
        subscriber.close()
    assert run.state == "success"
    mapped = {
        (ti.task_id, ti.map_index): (ti.state, ti.rendered_map_index)
        for ti in run.get_task_instances()
        if ti.task_id in ("cache_latest", "graph_stocks", "vectorise_patterns")
    }
    assert mapped == {
        **{
            (task, i): ("success", label)
            for task in ("graph_stocks", "vectorise_patterns")
            for i, label in enumerate(["AAPL..JPM (2 symbols)", "XOM"])
        },
        ("cache_latest", -1): ("success", None),  # the hot path's first hop: one task right after the load
    }

    # PostgreSQL: every real bar of the three symbols in 2022, with no invented open/high/low/volume
    per_symbol = dict(pg.execute("SELECT symbol, count(*) FROM price_bar GROUP BY symbol").fetchall())
    assert per_symbol == expected_bars.groupby("symbol").size().to_dict()
    assert pg.execute("SELECT count(*) FROM price_bar WHERE open IS NOT NULL OR volume IS NOT NULL").fetchone()[0] == 0
    status, stats = pg.execute("SELECT status, stats FROM ingestion_run").fetchone()
    assert status == "succeeded" and stats["accepted"] == len(expected_bars) and stats["rejected"] == 0

    # Redis: the latest close per symbol, as JSON, with a TTL
    last = expected_bars.groupby("symbol").tail(1).set_index("symbol")
    for symbol in SYMBOLS:
        key = f"price:{symbol}:latest"
        cached = json.loads(redis_client.get(key))
        assert cached["close"] == pytest.approx(last.loc[symbol, "close"])
        assert cached["ts"] == last.loc[symbol, "ts"].isoformat()
        assert 0 < redis_client.ttl(key) <= 86_400

    # Neo4j: one Stock node per symbol, with the latest price and the time of that bar
    with neo4j_driver.session() as session:
        stocks = {
            r["symbol"]: r
            for r in session.run("MATCH (s:Stock) RETURN s.symbol AS symbol, s.close AS price, s.ts AS updated").data()
        }
    assert sorted(stocks) == SYMBOLS
    for symbol in SYMBOLS:
        assert stocks[symbol]["price"] == pytest.approx(last.loc[symbol, "close"])
        assert stocks[symbol]["updated"].to_native() == last.loc[symbol, "ts"].to_pydatetime()

    # Chroma: one normalised 30-return window per symbol and ISO week of 2022 with full history
    got = price_patterns.get(include=["metadatas", "embeddings"])
    metas = got["metadatas"]
    assert {m["symbol"] for m in metas} == set(SYMBOLS)
    assert {m["type"] for m in metas} == {"price_pattern"}
    assert all("2022-01-01" <= m["as_of"] <= "2022-12-31" for m in metas)
    assert len(got["ids"]) == price_patterns.count() > 3 * 40
    # both chunks added their share to the run's counter
    assert pg.execute("SELECT stats->'vectorised' FROM ingestion_run").fetchone()[0] == len(got["ids"])
    # each vector is the pattern of the 31 ledger closes ending on its date
    first = min(range(len(metas)), key=lambda i: metas[i]["as_of"])
    own = expected_bars[expected_bars["symbol"] == metas[first]["symbol"]]
    upto = own[own["ts"] <= pd.Timestamp(metas[first]["as_of"], tz="UTC")]["close"].to_numpy()
    np.testing.assert_allclose(got["embeddings"][first], pattern_vector(upto, 30), rtol=1e-6)
    assert {m["representation"] for m in metas} == {REPRESENTATION}

    # pub/sub: one message per symbol, announced after the projections were written
    assert sorted(m["symbol"] for m in subscriber.messages) == SYMBOLS

    before = snapshot(pg, redis_client, neo4j_driver, price_patterns)
    rerun = dag.test(run_conf=CONF)
    assert rerun.state == "success"
    assert snapshot(pg, redis_client, neo4j_driver, price_patterns) == before
    load = pg.execute("SELECT stats->'load' FROM ingestion_run ORDER BY run_id DESC LIMIT 1").fetchone()[0]
    assert load == {"inserted": 0, "updated": 0, "unchanged": len(expected_bars)}


def test_invalid_params_fail_the_run_with_a_clear_error(dagbag, clean_stores, pg):
    from airflow.sdk.definitions.param import ParamValidationError

    with pytest.raises(ParamValidationError, match="symbols"):
        dagbag.dags["price_ingestion"].test(run_conf={**CONF, "symbols": ["AAPL; DROP TABLE price_bar"]})
    assert pg.execute("SELECT count(*) FROM ingestion_run").fetchone()[0] == 0


def test_offline_range_matches_the_packaged_history():
    raw = OfflineProvider().fetch(None, None, None)
    assert len(raw) == 166_260 and raw["symbol"].nunique() == 20
    assert raw["ts"].min() == pd.Timestamp("1990-01-02", tz="UTC")
    assert raw["ts"].max() == pd.Timestamp("2022-12-28", tz="UTC")
