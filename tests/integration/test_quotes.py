"""Quotes of many symbols from one MGET: Redis's value when it is the newest session's, else the last close read;
each equal to the one-symbol quote."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd

from axiom.quotes import quote, quotes
from axiom.stores import cache


def test_many_quotes_equal_one_quote_each(redis_client):
    index = pd.DatetimeIndex(pd.to_datetime(["2022-12-27", "2022-12-28", "2022-12-29", "2022-12-30"], utc=True))
    closes = pd.DataFrame(
        {"QTA": [1.0, 2.0, 3.0, 4.0], "QTB": [5.0, 6.0, np.nan, np.nan], "QTC": [np.nan] * 4}, index=index
    )
    newest = date(2022, 12, 30)
    cached = {"QTA": (4.5, "2022-12-30T21:00:00+00:00"), "QTB": (9.0, "2022-12-28T21:00:00+00:00")}  # B's is stale
    keys = [cache.latest_price_key(s) for s in cached]
    redis_client.mset({cache.latest_price_key(s): json.dumps({"close": c, "ts": ts}) for s, (c, ts) in cached.items()})
    try:
        for as_of, client in ((newest, redis_client), (date(2022, 12, 29), redis_client), (newest, None)):
            frame = closes[closes.index <= pd.Timestamp(as_of, tz="UTC")]
            many = quotes(client, ["QTA", "QTB", "QTC", "QTD"], as_of=as_of, newest=newest, closes=frame)
            for s in ("QTA", "QTB"):
                one = quote(client, s, as_of=as_of, newest=newest, closes=lambda s=s, f=frame: f[s].dropna())
                assert many[s] == one
            assert many["QTC"] is None and many["QTD"] is None  # no close read, nothing cached
        on_newest = quotes(redis_client, ["QTA", "QTB"], as_of=newest, newest=newest, closes=closes)
        assert (on_newest["QTA"].source, on_newest["QTA"].close) == ("redis", 4.5)
        assert (on_newest["QTB"].source, on_newest["QTB"].close, on_newest["QTB"].session) == (
            "ledger", 6.0, date(2022, 12, 28)
        )  # fmt: skip
        earlier = quotes(redis_client, ["QTA"], as_of=date(2022, 12, 29), newest=newest, closes=closes.iloc[:3])
        assert (earlier["QTA"].source, earlier["QTA"].close) == ("ledger", 3.0)  # Redis is not read for an earlier date
    finally:
        redis_client.delete(*keys)
