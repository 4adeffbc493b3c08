"""Redis: the fast read path and the pub/sub channels that announce changes.

Every key family and channel is named here once, singular ``{family}:{SYMBOL}:{what}``:

* ``price:{SYMBOL}:latest``: JSON of the newest close, its bar time, session date and ``adjusted``
  flag (TTL; readers fall back to the ledger when it has expired, and say how stale it is);
* ``company:{SYMBOL}:metadata``: JSON of a company's facts (TTL);
* ``event:{SYMBOL}:recent``: sorted set of event ids by time; events about no single company
  (FOMC decisions) go under ``event:macro:recent`` (lower case, so no ticker can collide);
* ``correlation:matrix:latest`` and ``correlation:{SYMBOL}:top``: the latest matrix and each
  symbol's strongest pairs (TTL);
* ``sector:momentum:latest``: each sector's returns and momentum score at the newest session (TTL);
* ``insight:{hash}``: an answer to a user's question (TTL);
* ``signal:stream``: a Redis Stream of trading signals, read by consumer groups (a consumer that was
  away reads what it missed, and acknowledges it);
* channels ``price_updates``, ``graph_updates``, ``market_events`` (and ``fed_events`` for Federal
  Reserve decisions), ``correlation_updates``, ``trading_signals`` (live listeners).

Writes go through one pipeline round trip per batch.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import NamedTuple

import redis.exceptions

PRICE_UPDATES = "price_updates"


def latest_price_key(symbol: str) -> str:
    return f"price:{symbol}:latest"


def latest_price_items(bars: Iterable[dict]) -> dict[str, dict]:
    """``price:{SYMBOL}:latest`` key -> value for each symbol's newest bar: close, bar time, session date,
    adjusted flag and source (what ``cache_latest_prices`` writes and the drift check expects)."""
    return {
        latest_price_key(b["symbol"]): {
            "symbol": b["symbol"],
            "close": b["close"],
            "ts": b["ts"].isoformat(),
            "session": b["ts"].date().isoformat(),
            "adjusted": b["adjusted"],
            "source": b["source"],
        }
        for b in bars
    }


def cache_latest_prices(client, bars: Iterable[dict], *, ttl_seconds: int) -> int:
    """SET each symbol's latest price JSON (``latest_price_items``) with a TTL, in one pipeline."""
    return cache_json(client, latest_price_items(bars), ttl_seconds=ttl_seconds)


def read_json(client, key: str) -> dict | None:
    """The JSON value of ``key`` (None when it is missing or expired, or when ``client`` is None: an answer
    asked while Redis is down reads the ledger instead, see ``axiom.insights.ask``)."""
    if client is None:
        return None
    raw = client.get(key)
    return None if raw is None else json.loads(raw)


def reachable(client) -> bool:
    """Whether Redis answers a PING: a reader that can do without it reads the ledger when it does not."""
    try:
        return bool(client.ping())
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
        return False


class Published(NamedTuple):
    """What an announcement did: messages sent, and deliveries (a message reaches every current subscriber)."""

    sent: int
    received: int


def publish(client, channel: str, messages: Iterable[dict]) -> Published:
    """Publish JSON messages on ``channel`` in one pipeline. Every message carries its ``run_id``, so a
    receiver drops the repeats a retried announcement sends (pub/sub is at-most-once, retries at-least-once)."""
    pipe = client.pipeline(transaction=False)
    for message in messages:
        pipe.publish(channel, json.dumps(message, sort_keys=True, default=str))
    receivers = pipe.execute()
    return Published(len(receivers), sum(receivers))


GRAPH_UPDATES = "graph_updates"
MARKET_EVENTS = "market_events"
FED_EVENTS = "fed_events"
MACRO = "macro"


def company_metadata_key(symbol: str) -> str:
    return f"company:{symbol}:metadata"


def recent_events_key(symbol: str | None) -> str:
    """Per-symbol recent events; events about no single company (FOMC decisions) go under ``macro``."""
    return f"event:{symbol or MACRO}:recent"


def migrate_keys(client) -> int:
    """Merge the recent-event sets of the old ``events:{SYMBOL}:recent`` family into ``event:…:recent``."""
    moved = 0
    for old in client.scan_iter(match="events:*:recent", count=1000):
        symbol = old.decode().split(":")[1]
        new = recent_events_key(None if symbol == "MACRO" else symbol)
        pipe = client.pipeline(transaction=True)
        pipe.zunionstore(new, [new, old], aggregate="MAX")
        pipe.delete(old)
        pipe.execute()
        moved += 1
    return moved


def cache_json(client, items: dict[str, dict], *, ttl_seconds: int) -> int:
    """SET key -> JSON with a TTL for every item, in one pipeline."""
    pipe = client.pipeline(transaction=False)
    for key, value in items.items():
        pipe.set(key, json.dumps(value, sort_keys=True, default=str), ex=ttl_seconds)
    pipe.execute()
    return len(items)


def add_recent(client, scored: dict[str, dict[str, float]], *, keep: int) -> int:
    """ZADD members with their timestamps to each key, then trim each key to its newest ``keep``."""
    pipe = client.pipeline(transaction=False)
    for key, members in scored.items():
        pipe.zadd(key, members)
        pipe.zremrangebyrank(key, 0, -keep - 1)
    pipe.execute()
    return sum(len(m) for m in scored.values())


CORRELATION_MATRIX = "correlation:matrix:latest"
CORRELATION_UPDATES = "correlation_updates"


def top_correlations_key(symbol: str) -> str:
    return f"correlation:{symbol}:top"


TRADING_SIGNALS = "trading_signals"
SIGNAL_STREAM = "signal:stream"


def stream_signals(client, signals: list[dict]) -> list[str]:
    """XADD each signal (JSON in field ``signal``) to the stream, then PUBLISH it for live listeners; return the ids."""
    pipe = client.pipeline(transaction=False)
    for signal in signals:
        body = json.dumps(signal, sort_keys=True, default=str)
        pipe.xadd(SIGNAL_STREAM, {"signal": body})
        pipe.publish(TRADING_SIGNALS, body)
    replies = pipe.execute()
    return [r.decode() if isinstance(r, bytes) else r for r in replies[0::2]]


def read_signals(client, *, group: str, consumer: str, block_ms: int | None = None, count: int = 100) -> list:
    """The signals this group member has not acknowledged (delivered again first), then new ones, as
    (entry id, signal dict); creates the group (reading from the stream's start) on first use."""
    try:
        client.xgroup_create(SIGNAL_STREAM, group, id="0", mkstream=True)
    except Exception as exc:  # the group exists: BUSYGROUP
        if "BUSYGROUP" not in str(exc):
            raise
    entries = client.xreadgroup(group, consumer, {SIGNAL_STREAM: "0"}, count=count)
    pending = entries[0][1] if entries else []
    if not pending:
        entries = client.xreadgroup(group, consumer, {SIGNAL_STREAM: ">"}, count=count, block=block_ms)
        pending = entries[0][1] if entries else []
    return [(i.decode() if isinstance(i, bytes) else i, json.loads(f[b"signal"])) for i, f in pending]


def acknowledge(client, group: str, entry_ids: list[str]) -> int:
    return client.xack(SIGNAL_STREAM, group, *entry_ids) if entry_ids else 0


def latest_signals(client, count: int = 10) -> list[dict]:
    """The newest signals on the stream, newest first."""
    return [json.loads(f[b"signal"]) for _, f in client.xrevrange(SIGNAL_STREAM, count=count)]


def insight_key(cache_key: str) -> str:
    """An answer to a user's question, under the hash of the question (see ``axiom.insights``)."""
    return f"insight:{cache_key}"


SECTOR_MOMENTUM = "sector:momentum:latest"


KEY_FAMILIES = {
    "price_latest_keys": "price:*:latest",
    "company_metadata_keys": "company:*:metadata",
    "recent_event_keys": "event:*:recent",
    "correlation_keys": "correlation:*",
    "insight_keys": "insight:*",
    "sector_keys": "sector:*",
    "signal_keys": "signal:*",
}


def key_counts(client) -> dict[str, int]:
    """How many keys each family holds."""
    return {name: sum(1 for _ in client.scan_iter(match=pattern, count=1000)) for name, pattern in KEY_FAMILIES.items()}


# the key families that project the ledger (answers and the signal stream are deliveries, not projections)
PROJECTED_FAMILIES = ("price:*:latest", "company:*:metadata", "event:*:recent", "correlation:*", SECTOR_MOMENTUM)


def projected(client) -> dict[str, dict]:
    """Per projected family, key -> JSON value (sorted sets: member -> score), as Redis holds them."""
    out: dict[str, dict] = {}
    for family in PROJECTED_FAMILIES:
        keys = sorted(k.decode() for k in client.scan_iter(match=family, count=1000))
        pipe = client.pipeline(transaction=False)
        for key in keys:
            if family == "event:*:recent":
                pipe.zrange(key, 0, -1, withscores=True)
            else:
                pipe.get(key)
        values = pipe.execute()
        if family == "event:*:recent":
            out[family] = {k: {m.decode(): score for m, score in v} for k, v in zip(keys, values, strict=True)}
        else:
            out[family] = {k: json.loads(v) for k, v in zip(keys, values, strict=True) if v is not None}
    return out


def delete_projected(client) -> int:
    """Delete every key of the projected families; return how many went."""
    deleted = 0
    for family in PROJECTED_FAMILIES:
        keys = list(client.scan_iter(match=family, count=1000))
        for start in range(0, len(keys), 1000):
            deleted += client.delete(*keys[start : start + 1000])
    return deleted


def flush(client) -> None:
    """Empty the client's whole Redis database (tests and benchmarks, on their own server)."""
    client.flushdb()
