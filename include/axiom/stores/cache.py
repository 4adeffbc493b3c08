"""Redis: the fast read path (latest prices) and the pub/sub channels that announce changes.

Keys and channels are named here once: ``price:{SYMBOL}:latest`` holds JSON with the close and
its timestamp, with a TTL; ``price_updates`` carries one JSON message per symbol.
Writes go through one pipeline round trip per batch.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

PRICE_UPDATES = "price_updates"


def latest_price_key(symbol: str) -> str:
    return f"price:{symbol}:latest"


def _bar_json(bar: dict) -> str:
    return json.dumps(
        {"symbol": bar["symbol"], "close": bar["close"], "ts": bar["ts"].isoformat(), "source": bar["source"]},
        sort_keys=True,
    )


def cache_latest_prices(client, bars: Iterable[dict], *, ttl_seconds: int) -> int:
    """SET each symbol's latest bar with a TTL, in one pipeline; return how many keys were written."""
    pipe = client.pipeline(transaction=False)
    count = 0
    for bar in bars:
        pipe.set(latest_price_key(bar["symbol"]), _bar_json(bar), ex=ttl_seconds)
        count += 1
    pipe.execute()
    return count


def publish(client, channel: str, messages: Iterable[dict]) -> int:
    """Publish JSON messages on ``channel`` in one pipeline; return how many were sent."""
    pipe = client.pipeline(transaction=False)
    count = 0
    for message in messages:
        pipe.publish(channel, json.dumps(message, sort_keys=True, default=str))
        count += 1
    pipe.execute()
    return count
