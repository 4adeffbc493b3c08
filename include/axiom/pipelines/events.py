"""Pipeline 3, market events: collect -> classify -> Neo4j -> Chroma -> Redis -> announce.

Offline, events come from two real sources: the FOMC's rate decisions (a fixture of public facts)
and abnormal daily moves found in the ledger's prices. A macro event (an FOMC decision) also gets
a measured sensitivity per sector: min(1, mean |z| / 3) over the sector's stocks on the decision
day, z being each stock's return against the std of its previous ``window`` returns. In the graph
the decision ``AFFECTS`` each sector with that sensitivity, so it reaches every company within
two hops; company events link by ``(Stock:Company)-[:AFFECTED_BY {impact}]->(MarketEvent)``.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from axiom import index
from axiom.analysts.judge import Judge
from axiom.calendar import SCHEDULED_LOOKBACK, history_start
from axiom.models import EventInput
from axiom.pipelines.steps import Step
from axiom.sources import events as sources
from axiom.stores import cache, graph, ledger, vectors
from axiom.validation import Rejects, is_symbol, is_text, parse_dates, parse_symbols, split_rows

log = logging.getLogger(__name__)

PIPELINE = "market_events"
DATASET = "market_event"
RECENT_EVENTS_KEPT = 50


MIN_K, MAX_K = 1.0, 20.0
MAX_EVENTS = 100_000


@dataclass(frozen=True)
class EventParams:
    """What to collect: ``k`` and ``window`` define an abnormal move (|return| >= k sigma of ``window`` sessions)."""

    provider: str = "offline"
    symbols: list[str] | None = None
    start: date | None = None
    end: date | None = None
    k: float = 5.0
    window: int = 60
    max_events: int = 1000

    def __post_init__(self):
        if not MIN_K <= self.k <= MAX_K:  # below 1 sigma every other session is "abnormal"; NaN fails too
            raise ValueError(f"k must be between {MIN_K} and {MAX_K} standard deviations, got {self.k}")
        if not 5 <= self.window <= 500:
            raise ValueError(f"window must be between 5 and 500 sessions, got {self.window}")
        if not 1 <= self.max_events <= MAX_EVENTS:
            raise ValueError(f"max_events must be between 1 and {MAX_EVENTS:,}, got {self.max_events}")

    @classmethod
    def parse(cls, params: dict, *, scheduled_end: date | None = None) -> EventParams:
        """Check a run's Params; a scheduled run without dates scans the week to ``scheduled_end`` (as prices
        load it), never all history: a live deployment learns of each evening's events, not of its future."""
        start, end = parse_dates(params.get("start"), params.get("end"))
        if scheduled_end and not (start or end):
            start, end = scheduled_end - SCHEDULED_LOOKBACK, scheduled_end
        return cls(
            provider=params.get("provider") or "offline",
            symbols=parse_symbols(params.get("symbols")),
            start=start,
            end=end,
            k=float(params.get("k", cls.k)),
            window=int(params.get("window", cls.window)),
            max_events=int(params.get("max_events", cls.max_events)),
        )

    def as_json(self) -> dict:
        return {
            "provider": self.provider,
            "symbols": self.symbols,
            "k": self.k,
            "window": self.window,
            "max_events": self.max_events,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
        }


def _timestamp(value) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    if pd.isna(ts):
        raise ValueError("no date")
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _rules(known_symbols: set[str]):
    return [
        ("missing source or source id", lambda r: is_text(r.get("source"), 50) and is_text(r.get("source_id"), 200)),
        ("missing or unparseable date", lambda r: _timestamp(r.get("occurred_at")) is not None),
        ("title missing or longer than 1,000 characters", lambda r: is_text(r.get("title"), 1000)),
        (
            "summary longer than 10,000 characters",
            lambda r: isinstance(r.get("summary", ""), str) and len(r.get("summary", "")) <= 10_000,
        ),
        ("malformed symbol", lambda r: r.get("symbol") is None or is_symbol(r["symbol"])),
        ("unknown symbol", lambda r: r.get("symbol") is None or r["symbol"] in known_symbols),
    ]


def known_symbols(conn) -> set[str]:
    """Companies and priced symbols: the symbols an event may name."""
    return set(ledger.companies.symbols(conn)) | set(ledger.prices.symbols(conn))


def gather(conn, params: EventParams) -> list[dict]:
    """Raw events from the configured provider."""
    symbols = params.symbols or sorted(known_symbols(conn))
    if params.provider == "yfinance":
        return sources.yfinance_news(symbols)
    closes = ledger.prices.closes(conn, symbols, since=history_start(params.start, params.window), until=params.end)
    moves = sources.abnormal_moves(closes, k=params.k, window=params.window, start=params.start, end=params.end)
    return sources.fomc_decisions(params.start, params.end) + moves


def cap(good: list[dict], rejects: Rejects, *, limit: int) -> tuple[list[dict], Rejects]:
    """The newest ``limit`` good events go on; older ones are kept as rejects with the reason (nothing is lost:
    a run with a higher ``max_events`` loads them), so one run cannot flood the analyst and the stores."""
    if len(good) <= limit:
        return good, rejects
    ordered = sorted(good, key=lambda r: _timestamp(r["occurred_at"]), reverse=True)
    over = ordered[limit:]
    log.warning("%d events over this run's cap of %d: the oldest are kept as rejects", len(over), limit)
    reason = f"over this run's cap of {limit} events (raise max_events to load it)"
    extra = split_rows(over, [(reason, lambda r: False)])[1]
    return ordered[:limit], Rejects(rejects.payloads + extra.payloads, rejects.reasons + extra.reasons)


def collect(conn, params: EventParams, *, rows: list[dict] | None = None, origin: str | None = None) -> int:
    """Open a run; validate and upsert raw events on (source, source_id); measure macro sensitivities."""
    run_id = ledger.runs.start_run(
        conn, pipeline=PIPELINE, provider=params.provider, params=params.as_json(), origin=origin
    )
    raw = rows if rows is not None else gather(conn, params)
    good, rejects = cap(*split_rows(raw, _rules(known_symbols(conn))), limit=params.max_events)
    ledger.runs.record_rejects(conn, run_id, DATASET, rejects)
    for payload, reason in zip(rejects.payloads, rejects.reasons, strict=True):
        log.warning("run %d: rejected event %s: %s", run_id, str(payload.get("source_id"))[:80], reason)
    event_ids = ledger.events.upsert_events(
        conn, [{**r, "occurred_at": _timestamp(r["occurred_at"]).to_pydatetime()} for r in good], run_id=run_id
    )
    ledger.runs.update_scope(conn, run_id, event_ids=tuple(event_ids), window=params.window)
    exposures = measure_sector_sensitivity(conn, event_ids, window=params.window)
    stats = {
        "fetched": len(raw),
        "accepted": len(good),
        "rejected": len(rejects),
        "reject_reasons": dict(Counter(rejects.reasons)),
        "by_source": dict(Counter(r["source"] for r in good)),
        "sector_exposures": exposures,
    }
    ledger.runs.add_stats(conn, run_id, stats)
    log.info("run %d: %d events stored (%s), %d rejected", run_id, len(good), stats["by_source"], len(rejects))
    return run_id


def measure_sector_sensitivity(conn, event_ids: list[int], *, window: int) -> int:
    """For each macro event (no symbol), each sector's mean |z| on the event's session (the next one when it
    fell on a day without trading), scaled to [0, 1]."""
    macro = ledger.events.macro_events(conn, event_ids)
    sectors = {c.symbol: c.sector for c in ledger.companies.latest_companies(conn)}
    if not macro or not sectors:
        return 0
    days = [pd.Timestamp(ts).tz_convert("UTC").normalize() for _, ts in macro]
    first, last = min(days).date(), max(days).date()
    closes = ledger.prices.closes(
        conn, sorted(sectors), since=history_start(first, window), until=last + timedelta(days=4)
    )
    z = sources.trailing_zscores(closes, window).dropna(subset=["z"])
    z["sector"] = z["symbol"].map(sectors)
    rows = []
    sessions = pd.DatetimeIndex(sorted(z["ts"].unique()))
    for (event_id, _), day in zip(macro, days, strict=True):
        i = sessions.searchsorted(day)  # a decision on a weekend or holiday meets the market the next session
        if i == len(sessions) or (sessions[i] - day).days > 4:
            continue
        on_day = z[z["ts"] == sessions[i]]
        for sector, group in on_day.groupby("sector"):
            rows.append((event_id, sector, round(min(1.0, float(group["z"].abs().mean()) / 3), 4), len(group)))
    return ledger.events.replace_sensitivities(conn, [e for e, _ in macro], rows)


def _run_events(conn, run_id: int) -> list[dict]:
    return ledger.events.market_events(conn, list(ledger.runs.scope(conn, run_id).event_ids))


def classify(conn, run_id: int, *, judge: Judge) -> dict:
    """Ask the analyst for each event's type, impact and sentiment (cached); update the ledger rows."""
    events = _run_events(conn, run_id)
    judgements = judge.classify_events(
        [
            EventInput(title=e["title"], summary=e["summary"], symbol=e["symbol"], source=e["source"], facts=e["facts"])
            for e in events
        ]
    )
    ledger.events.set_classifications(
        conn,
        [
            (
                e["event_id"],
                (j.value.event_type, j.value.impact, j.value.sentiment, j.analyst, j.model, j.prompt_version),
            )
            for e, j in zip(events, judgements, strict=True)
        ],
    )
    stats = {"analyst": judge.stats, "by_type": dict(Counter(j.value.event_type for j in judgements))}
    ledger.runs.add_stats(conn, run_id, {"classification": stats})
    log.info("run %d: classified %d events %s; analyst %s", run_id, len(events), stats["by_type"], judge.stats)
    return stats


def graph_rows(conn, event_ids: list[int] | None) -> tuple[list[dict], list[dict]]:
    """MarketEvent node rows and their sector exposures for ``event_ids`` (all when None), from the ledger."""
    events = ledger.events.market_events(conn, event_ids)
    rows = [
        {
            "event_id": e["event_id"],
            "event_type": e["event_type"],
            "date": e["occurred_at"].date(),
            "title": e["title"],
            "source": e["source"],
            "impact": e["impact"],
            "sentiment": e["sentiment"],
            "symbol": e["symbol"],
        }
        for e in events
    ]
    return rows, ledger.events.sensitivities(conn, [e["event_id"] for e in events])


def graph_events(conn, run_id: int, *, driver) -> int:
    """MarketEvent nodes with AFFECTED_BY (companies) and AFFECTS (sectors) edges, from the ledger."""
    rows, exposures = graph_rows(conn, list(ledger.runs.scope(conn, run_id).event_ids))
    graph.merge_events(driver, rows, exposures)
    log.info("run %d: %d MarketEvent nodes, %d sector exposures", run_id, len(rows), len(exposures))
    return len(rows)


def vectorise_events(conn, run_id: int, *, chroma_client) -> int:
    """One Chroma document per event, id ``market_event:{event_id}``, filterable by type, symbol and date."""
    records = index.event_records(conn, list(ledger.runs.scope(conn, run_id).event_ids))
    written = records.upsert(vectors.market_events(chroma_client))
    ledger.runs.add_stats(conn, run_id, {"vectorised": written})
    log.info("run %d: %d event documents, %d embedded", run_id, len(records), written)
    return written


def recent_scores(events: list[dict]) -> dict[str, dict[str, float]]:
    """``market_event:{SYMBOL}:recent`` key -> {event id: event time}: the members the events add."""
    scored: dict[str, dict[str, float]] = {}
    for e in events:
        scored.setdefault(cache.recent_events_key(e["symbol"]), {})[str(e["event_id"])] = e["occurred_at"].timestamp()
    return scored


def cache_recent(conn, run_id: int, *, redis_client) -> int:
    """Redis ``market_event:{SYMBOL}:recent`` sorted sets (score = event time), trimmed to the newest 50."""
    return cache.add_recent(redis_client, recent_scores(_run_events(conn, run_id)), keep=RECENT_EVENTS_KEPT)


def announce(conn, run_id: int, *, redis_client) -> int:
    """Last: one ``market_event_updates`` JSON message per event of the run (Fed decisions also on
    ``market_event_updates:fed_decision``, so every pipeline can react to a rate decision at once), then the
    run is marked succeeded."""
    messages = [
        {
            "event_id": e["event_id"],
            "symbol": e["symbol"],
            "event_type": e["event_type"],
            "impact": e["impact"],
            "sentiment": e["sentiment"],
            "date": e["occurred_at"].date().isoformat(),
            "run_id": run_id,
        }
        for e in _run_events(conn, run_id)
    ]
    sent, received = cache.publish(redis_client, cache.MARKET_EVENT_UPDATES, messages)
    fed = cache.publish(
        redis_client, cache.FED_DECISION_UPDATES, [m for m in messages if m["event_type"] == "fed_decision"]
    )
    stats = {"announced": sent, "received": received, "fed_announced": fed.sent, "fed_received": fed.received}
    ledger.runs.finish(conn, run_id, "succeeded", stats)
    return sent


STEPS = (
    Step(classify, "postgres"),
    Step(graph_events, "neo4j"),
    Step(vectorise_events, "chroma"),
    Step(cache_recent, "redis"),
    Step(announce, "pubsub"),
)
"""After ``collect`` opens the run, in this order."""
