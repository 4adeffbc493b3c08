"""Redis: the fast read path and the pub/sub channels that announce changes.

Every key family and channel is named here once, by the naming rule of ``axiom.stores``: keys are
``{concept}:{SYMBOL or scope}:{what}``, channels ``{concept}_updates``:

* ``price:{SYMBOL}:latest``: JSON of the newest close, its bar time, session date and ``adjusted``
  flag (TTL; readers fall back to the ledger when it has expired, and say how stale it is);
* ``company:{SYMBOL}:metadata``: JSON of a company's facts (TTL);
* ``market_event:{SYMBOL}:recent``: sorted set of event ids by time; events about no single company
  (FOMC decisions) go under ``market_event:macro:recent`` (lower case, so no ticker can collide);
* ``correlation:matrix:latest`` and ``correlation:{SYMBOL}:top``: the latest matrix and each
  symbol's strongest pairs (TTL);
* ``sector:momentum:latest``: each sector's returns and momentum score at the newest session (TTL);
* ``insight:{hash}``: an answer to a user's question (TTL);
* ``signal:stream``: a Redis Stream of trading signals, read by consumer groups (a consumer that was
  away reads what it missed, and acknowledges it; entries a dead consumer held are claimed by another);
  ``signal:streamed``: hash of each streamed signal's ledger id -> its entry id (what sends it once);
  ``signal:dead``: the dead-letter stream, entries that carried no signal, with the reason;
* channels ``price_updates``, ``company_updates``, ``market_event_updates`` (and
  ``market_event_updates:fed_decision`` for Federal Reserve decisions alone), ``correlation_updates``,
  ``signal_updates`` (live listeners).

Writes go through one pipeline round trip per batch.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import redis.exceptions

from axiom.stores.ledger.signals import check as check_signal

PRICE_UPDATES = "price_updates"
UNAVAILABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)  # what a read of a down Redis raises


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


COMPANY_UPDATES = "company_updates"
MARKET_EVENT_UPDATES = "market_event_updates"
FED_DECISION_UPDATES = f"{MARKET_EVENT_UPDATES}:fed_decision"
MACRO = "macro"


def company_metadata_key(symbol: str) -> str:
    return f"company:{symbol}:metadata"


def recent_events_key(symbol: str | None) -> str:
    """Per-symbol recent events; events about no single company (FOMC decisions) go under ``macro``."""
    return f"market_event:{symbol or MACRO}:recent"


# the recent-event families of older versions: ``events:{SYMBOL}:recent`` (macro: ``MACRO``), then
# ``event:{SYMBOL}:recent`` (macro: ``macro``)
OLD_RECENT_EVENT_FAMILIES = (("events:*:recent", "MACRO"), ("event:*:recent", MACRO))


def rename_recent_event_keys(client) -> int:
    """Merge the recent-event sets of the older families into ``market_event:{SYMBOL}:recent``; return how
    many keys moved. It SCANs the keyspace, so ``axiom.schema`` runs it once per ledger, not per run."""
    moved = 0
    for pattern, macro in OLD_RECENT_EVENT_FAMILIES:
        for old in client.scan_iter(match=pattern, count=1000):
            symbol = old.decode().split(":")[1]
            new = recent_events_key(None if symbol == macro else symbol)
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


SIGNAL_UPDATES = "signal_updates"
SIGNAL_STREAM = "signal:stream"
STREAMED_SIGNALS = "signal:streamed"
DEAD_SIGNALS = "signal:dead"
CLAIM_IDLE_MS = 60_000  # a consumer that held an entry this long unacknowledged is taken for dead

# KEYS[1] the stream, KEYS[2] the hash of streamed signal ids; ARGV[1] the channel, then (ledger id, JSON) pairs.
# One script: nothing runs between the check and the XADD, and the id is recorded with the entry (in the AOF too).
STREAM_ONCE = """
local out = {}
for i = 2, #ARGV, 2 do
  local entry = redis.call('HGET', KEYS[2], ARGV[i])
  if entry then
    out[#out + 1] = {entry, 0}
  else
    entry = redis.call('XADD', KEYS[1], '*', 'id', ARGV[i], 'signal', ARGV[i + 1])
    redis.call('HSET', KEYS[2], ARGV[i], entry)
    redis.call('PUBLISH', ARGV[1], ARGV[i + 1])
    out[#out + 1] = {entry, 1}
  end
end
return out
"""


class Streamed(NamedTuple):
    """Where each signal is on the stream (in the order given), and how many were not on it before."""

    entry_ids: list[str]
    added: int


def stream_signals(client, signals: dict[str, dict]) -> Streamed:
    """XADD each signal (ledger id -> signal; the id in field ``id``, the JSON in ``signal``) and PUBLISH it
    for live listeners, unless its id is already on the stream: exactly once, however often a crash between
    the XADD and the ledger's streamed mark makes a retry send it again."""
    if not signals:
        return Streamed([], 0)
    args = [SIGNAL_UPDATES]
    for signal_id, signal in signals.items():
        args += [signal_id, json.dumps(signal, sort_keys=True, default=str)]
    replies = client.register_script(STREAM_ONCE)(keys=[SIGNAL_STREAM, STREAMED_SIGNALS], args=args)
    return Streamed([_text(entry) for entry, _ in replies], sum(added for _, added in replies))


def consumer_name() -> str:
    """A consumer name unique to this process (host and PID), so two readers never share one pending list."""
    return f"{socket.gethostname()}-{os.getpid()}"


def read_signals(
    client, *, group: str, consumer: str, block_ms: int | None = None, count: int = 100,
    claim_idle_ms: int = CLAIM_IDLE_MS,
) -> list[tuple[str, dict]]:  # fmt: skip
    """What this group member should handle now, as (entry id, signal dict): its own delivered but unacknowledged
    entries first; else those another consumer has left unacknowledged for ``claim_idle_ms`` (it died; XAUTOCLAIM
    makes them this one's); else new ones, waiting up to ``block_ms``. Creates the group (reading from the stream's
    start) on first use. An entry that is not a signal goes to ``signal:dead`` with the reason and is acknowledged,
    so it cannot come back first forever."""
    try:
        client.xgroup_create(SIGNAL_STREAM, group, id="0", mkstream=True)
    except Exception as exc:  # the group exists: BUSYGROUP
        if "BUSYGROUP" not in str(exc):
            raise
    reads = (
        lambda: _entries(client.xreadgroup(group, consumer, {SIGNAL_STREAM: "0"}, count=count)),
        lambda: client.xautoclaim(SIGNAL_STREAM, group, consumer, claim_idle_ms, count=count)[1],
        lambda: _entries(client.xreadgroup(group, consumer, {SIGNAL_STREAM: ">"}, count=count, block=block_ms)),
    )
    for read in reads:
        if entries := read():
            return _parsed(client, group, consumer, entries)
    return []


def _entries(reply) -> list:
    return reply[0][1] if reply else []


def _parsed(client, group: str, consumer: str, entries: list) -> list[tuple[str, dict]]:
    """The signals of ``entries``; each entry that is not one is dead-lettered and acknowledged in one transaction."""
    signals, dead = [], client.pipeline(transaction=True)
    for entry_id, fields in entries:
        entry_id = _text(entry_id)
        try:
            signals.append((entry_id, _signal(fields)))
        except ValueError as exc:
            kept = {f"field:{_text(name)}": value for name, value in fields.items()}
            reader = {"entry": entry_id, "reason": str(exc), "group": group, "consumer": consumer}
            dead.xadd(DEAD_SIGNALS, {**reader, **kept})
            dead.xack(SIGNAL_STREAM, group, entry_id)
    if len(dead):
        dead.execute()
    return signals


def _signal(fields: dict) -> dict:
    """The signal an entry carries; ValueError saying why it carries none."""
    if not fields:  # an entry has at least one field: a pending one read back without is gone (XDEL)
        raise ValueError("the entry was deleted from the stream")
    if b"signal" not in fields:
        raise ValueError("the entry has no 'signal' field")
    try:
        signal = json.loads(fields[b"signal"])
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError both are
        raise ValueError(f"the 'signal' field is not JSON: {exc}") from exc
    return check_signal(signal)


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else value


def acknowledge(client, group: str, entry_ids: list[str]) -> int:
    return client.xack(SIGNAL_STREAM, group, *entry_ids) if entry_ids else 0


def leave(client, group: str, consumer: str) -> bool:
    """Remove a consumer that holds no unacknowledged entry from the group (a name per process would stay listed
    for ever); one that holds some stays, for another member to claim."""
    if client.xpending_range(SIGNAL_STREAM, group, min="-", max="+", count=1, consumername=consumer):
        return False
    client.xgroup_delconsumer(SIGNAL_STREAM, group, consumer)
    return True


def streamed_ids(client) -> list[str]:
    """The ledger id of every entry on ``signal:stream``, oldest first (a signal streamed twice is there twice)."""
    return [_text(fields.get(b"id", b"")) for _, fields in client.xrange(SIGNAL_STREAM)]


def signal_of(fields: dict) -> dict:
    """The signal a ``signal:stream`` entry carries (its fields as redis-py returns them); ValueError saying why
    it carries none. For readers outside a consumer group, which skip such an entry (the groups dead-letter it)."""
    return _signal(fields)


def stream_start(client, backlog: int) -> str:
    """The entry id a reader outside any group starts after to be sent the newest ``backlog`` entries first
    (``0-0`` when the stream holds no more than that): a concrete id, so nothing added meanwhile is missed."""
    newest = client.xrevrange(SIGNAL_STREAM, count=backlog + 1)
    return _text(newest[backlog][0]) if len(newest) > backlog else "0-0"


def read_latest_prices(client, symbols: Sequence[str]) -> dict[str, dict | None]:
    """Each symbol's ``price:{SYMBOL}:latest`` JSON (None when missing or expired, or when ``client`` is None: Redis
    is down), in one MGET."""
    if client is None or not symbols:
        return dict.fromkeys(symbols)
    values = client.mget([latest_price_key(s) for s in symbols])
    return {s: None if v is None else json.loads(v) for s, v in zip(symbols, values, strict=True)}


def latest_signals(client, count: int = 10) -> list[dict]:
    """The newest signals on the stream, newest first (an entry that carries none is left out)."""
    found = []
    for _, fields in client.xrevrange(SIGNAL_STREAM, count=count):
        try:
            found.append(_signal(fields))
        except ValueError:
            continue
    return found


def insight_key(cache_key: str) -> str:
    """An answer to a user's question, under the hash of the question (see ``axiom.insights``)."""
    return f"insight:{cache_key}"


SECTOR_MOMENTUM = "sector:momentum:latest"


KEY_FAMILIES = {
    "price_latest_keys": "price:*:latest",
    "company_metadata_keys": "company:*:metadata",
    "market_event_recent_keys": "market_event:*:recent",
    "correlation_keys": "correlation:*",
    "insight_keys": "insight:*",
    "sector_keys": "sector:*",
    "signal_keys": "signal:*",
}


def key_counts(client) -> dict[str, int]:
    """How many keys each family holds."""
    return {name: sum(1 for _ in client.scan_iter(match=pattern, count=1000)) for name, pattern in KEY_FAMILIES.items()}


# the key families that project the ledger (answers and the signal stream are deliveries, not projections)
RECENT_EVENT_FAMILY = "market_event:*:recent"  # sorted sets: member -> score
PROJECTED_FAMILIES = (
    "price:*:latest",
    "company:*:metadata",
    RECENT_EVENT_FAMILY,
    "correlation:*",
    SECTOR_MOMENTUM,
)


def projected(client) -> dict[str, dict]:
    """Per projected family, key -> JSON value (sorted sets: member -> score), as Redis holds them."""
    out: dict[str, dict] = {}
    for family in PROJECTED_FAMILIES:
        keys = sorted(k.decode() for k in client.scan_iter(match=family, count=1000))
        pipe = client.pipeline(transaction=False)
        for key in keys:
            if family == RECENT_EVENT_FAMILY:
                pipe.zrange(key, 0, -1, withscores=True)
            else:
                pipe.get(key)
        values = pipe.execute()
        if family == RECENT_EVENT_FAMILY:
            out[family] = {k: {m.decode(): score for m, score in v} for k, v in zip(keys, values, strict=True)}
        else:
            out[family] = {k: json.loads(v) for k, v in zip(keys, values, strict=True) if v is not None}
    return out


def delete_keys(client, keys: Sequence[str]) -> int:
    """Delete these keys (a repair's extras); return how many went."""
    return sum(client.delete(*keys[start : start + 1000]) for start in range(0, len(keys), 1000))


def replace_sets(client, members: dict[str, dict[str, float]]) -> int:
    """Set each sorted set to exactly these members, each in one transaction: a reader sees the old set or
    the new one, never an empty one."""
    pipe = client.pipeline(transaction=True)
    for key, scored in members.items():
        pipe.delete(key)
        if scored:
            pipe.zadd(key, scored)
    pipe.execute()
    return len(members)


def flush(client) -> None:
    """Empty the client's whole Redis database (tests and benchmarks, on their own server)."""
    client.flushdb()
