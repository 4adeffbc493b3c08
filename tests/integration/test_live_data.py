"""Live data stays true: re-basing after splits and dividends, "latest" that means latest, staleness said
out loud, UTC whatever the server's zone.

Yahoo is faked at its boundary (``yfinance.download``) with frames shaped like its answers. The prices are
a test path (a seeded random walk with a common factor, not market data), adjusted the way Yahoo adjusts
(``auto_adjust=True``): on the day a split or dividend is known, every earlier price is re-based.
"""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest
import yfinance

from axiom.pipelines import correlations, events
from axiom.stores import cache, ledger

TICKERS = ["AAPL", "MSFT"]
FIELDS = ["Close", "High", "Low", "Open", "Volume"]


class FakeYahoo:
    """Raw prices of a test path, served as yfinance.download serves them on ``today``."""

    def __init__(self, start: str, end: str, seed: int = 3):
        rng = np.random.default_rng(seed)
        self.sessions = pd.bdate_range(start, end)
        common = rng.normal(0.0005, 0.01, len(self.sessions))
        self.raw = pd.DataFrame(
            {t: 100 * (i + 1) * np.cumprod(1 + 0.8 * common + rng.normal(0, 0.006, len(common))) for i, t in
             enumerate(TICKERS)},
            index=self.sessions,
        )  # fmt: skip
        self.volume = pd.DataFrame(1_000_000.0, index=self.sessions, columns=TICKERS)
        self.actions: list[
            tuple[str, pd.Timestamp, float, float, pd.Timestamp]
        ] = []  # ticker, day, price x, vol x, known
        self.today = self.sessions[-1]

    def split(self, ticker: str, day: str, ratio: int) -> None:
        """A ratio:1 split: from ``day`` on the raw price is 1/ratio, the raw volume ratio times."""
        day = pd.Timestamp(day)
        self.raw.loc[day:, ticker] /= ratio
        self.volume.loc[day:, ticker] *= ratio
        self.actions.append((ticker, day, 1 / ratio, ratio, day))

    def dividend(self, ticker: str, day: str, amount: float, known: str) -> None:
        """A cash dividend going ex on ``day``; Yahoo re-bases earlier prices from ``known`` on."""
        day = pd.Timestamp(day)
        self.raw.loc[day:, ticker] -= amount
        before = self.raw.loc[:day, ticker].iloc[-2]
        self.actions.append((ticker, day, 1 - amount / before, 1.0, pd.Timestamp(known)))

    def adjusted(self, today=None) -> tuple[pd.DataFrame, pd.DataFrame]:
        today = pd.Timestamp(today or self.today)
        close, volume = self.raw.loc[:today].copy(), self.volume.loc[:today].copy()
        for ticker, day, factor, volume_factor, known in self.actions:
            if known <= today:
                close.loc[close.index < day, ticker] *= factor
                volume.loc[volume.index < day, ticker] *= volume_factor
        return close, volume

    def download(self, tickers, start=None, end=None, **kwargs):
        close, volume = self.adjusted()
        keep = (close.index >= pd.Timestamp(start)) & (close.index < pd.Timestamp(end))
        close, volume = close[keep][sorted(tickers)], volume[keep][sorted(tickers)]
        parts = {"Close": close, "High": close * 1.01, "Low": close * 0.99, "Open": close, "Volume": volume}
        frame = pd.concat(parts, axis=1, names=["Price", "Ticker"])[FIELDS]
        frame.index = pd.DatetimeIndex(frame.index, name="Date").tz_localize("America/New_York")
        return frame


def ingest(dagbag, start, end):
    conf = {"symbols": TICKERS, "start": start, "end": end, "provider": "yfinance"}
    run = dagbag.dags["price_ingestion"].test(run_conf=conf)
    assert run.state == "success"
    return run


def run_stats(pg):
    return pg.execute(
        "SELECT stats FROM ingestion_run WHERE pipeline = 'price_ingestion' ORDER BY run_id DESC LIMIT 1"
    ).fetchone()[0]


def stored(pg) -> pd.DataFrame:
    rows = pg.execute("SELECT symbol, ts, close FROM price_bar ORDER BY symbol, ts").fetchall()
    frame = pd.DataFrame(rows, columns=["symbol", "ts", "close"])
    return frame.pivot(index="ts", columns="symbol", values="close")


@pytest.fixture
def yahoo(monkeypatch):
    fake = FakeYahoo("2024-01-02", "2024-06-14")
    monkeypatch.setattr(yfinance, "download", fake.download)
    return fake


def test_a_split_and_a_dividend_in_the_live_window_leave_no_false_return(
    dagbag, clean_stores, pg, redis_client, neo4j_driver, chroma_client, yahoo
):
    yahoo.today = pd.Timestamp("2024-06-07")
    ingest(dagbag, "2024-01-02", "2024-06-07")  # the history, before anything happened
    yahoo.split("AAPL", "2024-06-10", 4)
    yahoo.dividend("MSFT", "2024-06-13", 3.0, known="2024-06-14")  # Yahoo re-bases a day late

    yahoo.today = pd.Timestamp("2024-06-11")
    ingest(dagbag, "2024-06-04", "2024-06-11")  # a scheduled week: the split is in it
    assert run_stats(pg)["rebased"] == {"AAPL": {"factor": 0.25, "through": "2024-06-07", "volume_factor": 4.0}}
    yahoo.today = pd.Timestamp("2024-06-13")
    ingest(dagbag, "2024-06-06", "2024-06-13")  # the ex-date bar lands before Yahoo re-based MSFT
    yahoo.today = pd.Timestamp("2024-06-14")
    ingest(dagbag, "2024-06-07", "2024-06-14")  # now every MSFT bar before the 13th is re-based
    rebased = run_stats(pg)["rebased"]
    assert list(rebased) == ["MSFT"] and rebased["MSFT"]["through"] == "2024-06-12"

    # the ledger holds Yahoo's re-based history, every bar; returns are the path's own
    truth, _ = yahoo.adjusted()
    held = stored(pg)
    np.testing.assert_allclose(held.to_numpy(), truth[held.columns].to_numpy(), rtol=1e-9)
    returns = held.pct_change().iloc[1:].abs().max()
    assert (returns < truth.pct_change().iloc[1:].abs().max() + 1e-9).all() and (returns < 0.08).all()

    # projections: the latest price with its session and adjusted flag, the Stock node, the pattern vectors
    latest = json.loads(redis_client.get(cache.latest_price_key("AAPL")))
    assert latest["close"] == pytest.approx(truth["AAPL"].iloc[-1]) and latest["session"] == "2024-06-14"
    assert latest["adjusted"] is True
    with neo4j_driver.session() as s:
        node = s.run("MATCH (s:Stock {symbol: 'AAPL'}) RETURN s.close AS p, s.session AS d, s.adjusted AS a")
        node = node.single()
    assert node["p"] == pytest.approx(truth["AAPL"].iloc[-1]) and node["d"].to_native() == date(2024, 6, 14)
    assert node["a"] is True
    vectors = chroma_client.get_collection("price_patterns").get(include=["metadatas"])["metadatas"]
    assert vectors and min(m["window_return"] for m in vectors) > -0.3

    # no false event, and correlations equal a recomputation on the re-based series
    run_id = events.collect(pg, events.EventParams(start=date(2024, 1, 2), end=date(2024, 6, 14)))
    assert not [e for e in ledger.events.market_events(pg, list(ledger.runs.scope(pg, run_id).event_ids))
                if e["source"] == "price_move"]  # fmt: skip
    [matrix] = correlations.matrices(pg, correlations.CorrelationParams(as_of=date(2024, 6, 14)))
    expected = truth.pct_change().iloc[-30:].corr()
    assert matrix.coefficients[0, 1] == pytest.approx(expected.loc["AAPL", "MSFT"], abs=1e-9)


def test_a_single_corrected_bar_is_a_correction_not_a_rebase(dagbag, clean_stores, pg, yahoo):
    yahoo.today = pd.Timestamp("2024-06-07")
    ingest(dagbag, "2024-05-01", "2024-06-07")
    yahoo.raw.loc[pd.Timestamp("2024-06-05"), "AAPL"] *= 1.02  # Yahoo revises one close
    ingest(dagbag, "2024-06-03", "2024-06-07")
    stats = run_stats(pg)
    assert stats["rebased"] == {} and stats["load"]["updated"] == 1


def test_a_run_with_no_new_data_announces_nothing_and_emits_no_asset_event(dagbag, clean_stores, pg, redis_client):
    conf = {"symbols": ["KO"], "start": "2022-12-01", "end": "2022-12-31", "provider": "offline"}
    first = dagbag.dags["price_ingestion"].test(run_conf=conf)
    assert first.get_task_instance("announce").state == "success"
    again = dagbag.dags["price_ingestion"].test(run_conf=conf)  # offline history ends 2022-12-28: nothing new
    assert again.state == "success" and again.get_task_instance("announce").state == "skipped"
    stats = run_stats(pg)
    assert stats["no_new_data"] is True and stats["announced"] == 0
    assert pg.execute("SELECT status FROM ingestion_run ORDER BY run_id DESC LIMIT 1").fetchone()[0] == "succeeded"


def test_an_expired_latest_price_falls_back_to_the_ledger_and_says_how_stale(dagbag, clean_stores, pg, redis_client):
    from axiom import quotes

    conf = {"symbols": ["KO"], "start": "2022-12-01", "end": "2022-12-31", "provider": "offline"}
    assert dagbag.dags["price_ingestion"].test(run_conf=conf).state == "success"
    fresh = quotes.latest_price(pg, redis_client, "KO")
    assert fresh.source == "redis" and fresh.session == date(2022, 12, 28)
    redis_client.delete(cache.latest_price_key("KO"))  # the TTL ran out
    old = quotes.latest_price(pg, redis_client, "KO")
    assert (old.source, old.session, old.close) == ("ledger", fresh.session, fresh.close)
    assert old.age_days == (date.today() - date(2022, 12, 28)).days and "stale" in old.note


def test_a_2020_backfill_after_a_2022_run_leaves_the_latest_projections(
    dagbag, clean_stores, pg, redis_client, neo4j_driver
):
    prices = {"symbols": [], "start": "2019-10-01", "end": "2022-12-31", "provider": "offline"}
    assert dagbag.dags["price_ingestion"].test(run_conf=prices).state == "success"
    latest = {
        "symbols": [],
        "window": 30,
        "threshold": 0.7,
        "as_of": None,
        "backfill_start": None,
        "backfill_end": None,
    }
    assert dagbag.dags["correlations"].test(run_conf=latest).state == "success"

    def projections():
        with neo4j_driver.session() as s:
            edges = s.run(
                "MATCH (a)-[r:CORRELATED_WITH]->(b) RETURN a.symbol AS a, b.symbol AS b, toString(r.as_of) AS d,"
                " r.coefficient AS c ORDER BY a, b"
            ).data()
        return redis_client.get(cache.CORRELATION_MATRIX), edges

    before = projections()
    assert json.loads(before[0])["as_of"] == "2022-12-28" and {e["d"] for e in before[1]} == {"2022-12-28"}
    backfill = {**latest, "backfill_start": "2020-01-01", "backfill_end": "2020-12-31"}
    assert dagbag.dags["correlations"].test(run_conf=backfill).state == "success"
    assert projections() == before
    assert pg.execute("SELECT count(*) FROM correlation WHERE as_of < '2021-01-01'").fetchone()[0] > 0


def test_every_connection_path_is_in_utc_whatever_the_server_default(dagbag, clean_stores, pg):
    import psycopg

    from axiom import connections
    from axiom_airflow.stores import StoreSession

    database = pg.execute("SELECT current_database()").fetchone()[0]
    pg.execute(f"ALTER DATABASE \"{database}\" SET timezone TO 'America/Los_Angeles'")
    try:
        info = connections.connection_info("axiom_postgres")
        with psycopg.connect(host=info.host, port=info.port, user=info.login, password=info.password,
                             dbname=info.schema) as raw:  # fmt: skip
            assert raw.execute("SHOW TimeZone").fetchone()[0] == "America/Los_Angeles"  # the trap is set
        with connections.postgres() as cli:
            assert cli.execute("SHOW TimeZone").fetchone()[0] == "UTC"
        with StoreSession() as stores:
            assert stores.ledger.execute("SHOW TimeZone").fetchone()[0] == "UTC"
        conf = {"symbols": ["KO"], "start": "2022-12-01", "end": "2022-12-31", "provider": "offline"}
        assert dagbag.dags["price_ingestion"].test(run_conf=conf).state == "success"
        with connections.postgres() as cli:
            day = ledger.prices.closes(cli, ["KO"], since=date(2022, 12, 28), until=date(2022, 12, 28))
            assert day["ts"].tolist() == [pd.Timestamp("2022-12-28", tz="UTC")]
            assert ledger.prices.last_sessions(cli, date(2022, 12, 28), 1, "KO") == [date(2022, 12, 28)]
    finally:
        pg.execute(f'ALTER DATABASE "{database}" RESET timezone')


def test_macro_events_never_share_a_key_with_a_symbol_named_macro():
    assert cache.recent_events_key("MACRO") == "market_event:MACRO:recent"
    assert cache.recent_events_key(None) == "market_event:macro:recent"
