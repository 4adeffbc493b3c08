"""The ledger keeps good rows and rejects bad ones with a reason, in one batch, idempotently."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import pandas as pd
import pytest

from axiom.pipelines import prices
from axiom.sources.prices import OfflineProvider
from axiom.stores import ledger


@dataclass
class BatchProvider:
    """Serves one fixed raw batch, as a provider would return it."""

    batch: pd.DataFrame
    name: str = "offline"
    adjusted: bool = True

    def universe(self):
        return sorted(self.batch["symbol"].unique())

    def fetch(self, symbols, start, end, interval="1d"):
        return self.batch


def real_bars(symbols, start, end) -> pd.DataFrame:
    return OfflineProvider().fetch(symbols, start, end)


def test_a_mixed_batch_lands_its_good_rows_and_rejects_the_rest_with_reasons(clean_stores, pg):
    good = real_bars(["AAPL", "MSFT"], date(2022, 3, 1), date(2022, 3, 31))
    bad = good.head(4).copy()
    bad.loc[bad.index[0], "close"] = math.nan  # NaN close
    bad.loc[bad.index[1], "close"] = -1.0  # negative price
    bad.loc[bad.index[3], "symbol"] = "AAPL'); DELETE FROM price_bar; --"  # malformed symbol
    # bad.index[2] stays identical to a good row: a duplicate timestamp
    batch = pd.concat([good, bad], ignore_index=True)

    params = prices.IngestParams.parse({"provider": "offline", "symbols": ["AAPL", "MSFT"]})
    run_id = prices.fetch(pg, params, landing_dir=clean_stores, provider=BatchProvider(batch))
    prices.validate(pg, run_id)
    prices.load(pg, run_id)

    assert pg.execute("SELECT count(*) FROM price_bar").fetchone()[0] == len(good)
    rejects = pg.execute("SELECT reason, payload->>'symbol' FROM rejected_row ORDER BY reject_id").fetchall()
    assert rejects == [
        ("close is missing or not a finite number", "AAPL"),
        ("non-positive or non-finite price", "AAPL"),
        ("duplicate (symbol, interval, ts) in batch", "AAPL"),
        ("malformed symbol", "AAPL'); DELETE FROM price_bar; --"),
    ]
    stats = ledger.runs.get_run(pg, run_id).stats
    assert stats["accepted"] == len(good) and stats["rejected"] == 4

    # the same bad rows again are counted, not copied
    again = prices.fetch(pg, params, landing_dir=clean_stores, provider=BatchProvider(batch))
    prices.validate(pg, again)
    assert pg.execute("SELECT count(*), min(seen_count), max(last_run_id) FROM rejected_row").fetchone() == (
        4,
        2,
        again,
    )


def test_upsert_changes_only_what_changed(clean_stores, pg):
    bars = real_bars(["KO"], date(2022, 6, 1), date(2022, 6, 30))
    first = ledger.prices.load_bars(pg, bars, run_id=1, source="offline", adjusted=True)
    assert first.as_dict() == {"inserted": len(bars), "updated": 0, "unchanged": 0}

    revised = bars.copy()
    revised.loc[revised.index[-1], "close"] = revised["close"].iloc[-1] + 0.5
    extra = real_bars(["KO"], date(2022, 7, 1), date(2022, 7, 8))
    second = ledger.prices.load_bars(pg, pd.concat([revised, extra]), run_id=2, source="offline", adjusted=True)
    assert second.as_dict() == {"inserted": len(extra), "updated": 1, "unchanged": len(bars) - 1}
    changed = pg.execute("SELECT close, run_id FROM price_bar WHERE symbol = 'KO' AND ts = %s", (bars["ts"].iloc[-1],))
    assert changed.fetchone() == (revised["close"].iloc[-1], 2)


def test_the_close_table_is_the_row_read_pivoted_with_gaps_and_bounds(clean_stores, pg):
    bars = real_bars(["KO", "MSFT", "XOM"], date(2022, 5, 2), date(2022, 6, 30))
    gaps = bars[~((bars["symbol"] == "MSFT") & bars["ts"].dt.day.isin([3, 17]))]  # MSFT misses two sessions
    ledger.prices.load_bars(pg, gaps, run_id=1, source="offline", adjusted=True)
    for symbols, since, until in [
        (["XOM", "KO", "MSFT"], None, None),
        (["MSFT", "KO"], date(2022, 5, 17), date(2022, 6, 3)),  # bounds inclusive, a gap inside
        (["KO", "AAPL"], date(2022, 6, 1), None),  # a symbol without bars has no column
    ]:
        rows = pg.execute(
            "SELECT symbol, ts, close FROM price_bar WHERE symbol = ANY(%s) AND ts >= %s AND ts < %s",
            (symbols, pd.Timestamp(since or date(1900, 1, 1), tz="UTC"),
             pd.Timestamp(until or date(2100, 1, 1), tz="UTC") + pd.Timedelta(days=1)),
        ).fetchall()  # fmt: skip
        expected = pd.DataFrame(rows, columns=["symbol", "ts", "close"]).pivot(index="ts", columns="symbol")["close"]
        table = ledger.prices.close_table(pg, symbols, since=since, until=until)
        pd.testing.assert_frame_equal(table, expected.sort_index(), check_index_type=False, check_freq=False)
        assert str(table.index.tz) == "UTC" and table.columns.is_monotonic_increasing
    msft = ledger.prices.close_table(pg, ["MSFT", "KO"], since=date(2022, 5, 2), until=date(2022, 5, 31))
    assert msft["MSFT"].isna().sum() == 2 and msft["KO"].notna().all()
    empty = ledger.prices.close_table(pg, ["KO"], since=date(2023, 1, 1))
    assert empty.empty and list(empty.columns) == []


def test_the_ledger_refuses_a_connection_that_would_not_commit(pg):
    import psycopg

    from axiom import connections

    info = connections.connection_info("axiom_postgres")
    with psycopg.connect(
        host=info.host, port=info.port, user=info.login, password=info.password, dbname=info.schema
    ) as conn:
        with pytest.raises(RuntimeError, match="autocommit"):
            ledger.runs.start_run(conn, pipeline="t", provider="offline", params={})


def test_a_retried_first_task_reopens_the_run_it_started(clean_stores, pg):
    batch = real_bars(["KO"], date(2022, 6, 1), date(2022, 6, 10))
    params = prices.IngestParams.parse({"symbols": ["KO"]})
    first = prices.fetch(
        pg, params, landing_dir=clean_stores, provider=BatchProvider(batch), origin="price_ingestion/r1"
    )
    ledger.runs.finish(pg, first, "failed", {"error": "the fetch task died"})
    again = prices.fetch(
        pg, params, landing_dir=clean_stores, provider=BatchProvider(batch), origin="price_ingestion/r1"
    )
    assert again == first
    assert pg.execute("SELECT count(*), min(status) FROM ingestion_run").fetchone() == (1, "running")
    other = prices.fetch(
        pg, params, landing_dir=clean_stores, provider=BatchProvider(batch), origin="price_ingestion/r2"
    )
    assert other != first and ledger.runs.run_of(pg, "price_ingestion/r2").run_id == other
