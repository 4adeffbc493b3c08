"""Pipeline 3, market events: collect -> classify -> Neo4j -> Chroma -> Redis -> announce.

Offline, events come from two real sources: the 2022 FOMC decisions (a fixture of public facts)
and abnormal daily moves found in the ledger's prices. A macro event (an FOMC decision) also gets
a measured sensitivity per sector: min(1, mean |z| / 3) over the sector's stocks on the decision
day, z being each stock's return against the std of its previous ``window`` returns. In the graph
the decision ``AFFECTS`` each sector with that sensitivity, so it reaches every company within
two hops; company events link by ``(Stock:Company)-[:AFFECTED_BY {impact_score}]->(MarketEvent)``.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
from psycopg.types.json import Jsonb

from axiom import index
from axiom.analysts.base import EventInput
from axiom.analysts.judge import Judge
from axiom.sources import events as sources
from axiom.stores import cache, graph, ledger, vectors
from axiom.validation import is_symbol, is_text, split_rows

log = logging.getLogger(__name__)

PIPELINE = "market_events"
DATASET = "market_event"
RECENT_EVENTS_KEPT = 50


@dataclass(frozen=True)
class EventParams:
    """What to collect: ``k`` and ``window`` define an abnormal move (|return| >= k sigma of ``window`` sessions)."""

    provider: str = "offline"
    symbols: list[str] | None = None
    start: date | None = None
    end: date | None = None
    k: float = 5.0
    window: int = 60

    def __post_init__(self):
        if not self.k > 0:
            raise ValueError(f"k must be positive, got {self.k}")
        if not 5 <= self.window <= 500:
            raise ValueError(f"window must be between 5 and 500 sessions, got {self.window}")

    def as_json(self) -> dict:
        return {
            "provider": self.provider,
            "symbols": self.symbols,
            "k": self.k,
            "window": self.window,
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
    rows = conn.execute(
        "SELECT symbol FROM company_fundamentals UNION SELECT DISTINCT symbol FROM price_bar"
    ).fetchall()
    return {r[0] for r in rows}


def gather(conn, params: EventParams) -> list[dict]:
    """Raw events from the configured provider."""
    symbols = params.symbols or sorted(known_symbols(conn))
    if params.provider == "yfinance":
        return sources.yfinance_news(symbols)
    history_from = params.start - timedelta(days=2 * params.window + 14) if params.start else None
    closes = ledger.closes(conn, symbols, "1d", history_from, params.end + timedelta(days=1) if params.end else None)
    moves = sources.abnormal_moves(closes, k=params.k, window=params.window, start=params.start, end=params.end)
    return sources.fomc_decisions(params.start, params.end) + moves


def collect(conn, params: EventParams, *, rows: list[dict] | None = None) -> int:
    """Open a run; validate and upsert raw events on (source, source_id); measure macro sensitivities."""
    run_id = ledger.start_run(conn, pipeline=PIPELINE, provider=params.provider, params=params.as_json())
    raw = rows if rows is not None else gather(conn, params)
    good, rejects = split_rows(raw, _rules(known_symbols(conn)))
    ledger.record_rejects(conn, run_id, DATASET, rejects)
    for payload, reason in zip(rejects.payloads, rejects.reasons, strict=True):
        log.warning("run %d: rejected event %s: %s", run_id, str(payload.get("source_id"))[:80], reason)
    values = [
        (
            r["source"],
            r["source_id"],
            r.get("symbol"),
            _timestamp(r["occurred_at"]).to_pydatetime(),
            r["title"],
            r.get("summary", ""),
            Jsonb(r.get("facts", {})),
            run_id,
        )
        for r in good
    ]
    with ledger.transaction(conn), conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO market_event (source, source_id, symbol, occurred_at, title, summary, facts, run_id)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (source, source_id) DO UPDATE SET symbol = EXCLUDED.symbol,"
            " occurred_at = EXCLUDED.occurred_at, title = EXCLUDED.title, summary = EXCLUDED.summary,"
            " facts = EXCLUDED.facts, run_id = EXCLUDED.run_id, event_type = NULL, impact = NULL,"
            " sentiment = NULL, analyst = NULL, model = NULL, prompt_version = NULL"
            " WHERE (market_event.symbol, market_event.occurred_at, market_event.title, market_event.summary,"
            " market_event.facts) IS DISTINCT FROM"
            " (EXCLUDED.symbol, EXCLUDED.occurred_at, EXCLUDED.title, EXCLUDED.summary, EXCLUDED.facts)",
            values,
        )
        cur.execute(
            "SELECT m.event_id FROM market_event m JOIN unnest(%s::text[], %s::text[]) AS t(source, source_id)"
            " USING (source, source_id) ORDER BY m.event_id",
            ([r["source"] for r in good], [r["source_id"] for r in good]),
        )
        event_ids = [row[0] for row in cur.fetchall()]
    exposures = measure_sector_sensitivity(conn, event_ids, window=params.window)
    stats = {
        "fetched": len(raw),
        "accepted": len(good),
        "rejected": len(rejects),
        "reject_reasons": dict(Counter(rejects.reasons)),
        "event_ids": event_ids,
        "by_source": dict(Counter(r["source"] for r in good)),
        "sector_exposures": exposures,
    }
    ledger.update_run(conn, run_id, stats=stats)
    log.info("run %d: %d events stored (%s), %d rejected", run_id, len(good), stats["by_source"], len(rejects))
    return run_id


def measure_sector_sensitivity(conn, event_ids: list[int], *, window: int) -> int:
    """For each macro event (no symbol), each sector's mean |z| on the event day, scaled to [0, 1]."""
    macro = conn.execute(
        "SELECT event_id, occurred_at FROM market_event WHERE event_id = ANY(%s) AND symbol IS NULL", (event_ids,)
    ).fetchall()
    sectors = {c.symbol: c.sector for c in ledger.latest_companies(conn)}
    if not macro or not sectors:
        return 0
    days = [pd.Timestamp(ts).tz_convert("UTC").normalize() for _, ts in macro]
    closes = ledger.closes(conn, sorted(sectors), "1d", min(days) - pd.Timedelta(days=2 * window + 14), max(days))
    z = sources.trailing_zscores(closes, window).dropna(subset=["z"])
    z["sector"] = z["symbol"].map(sectors)
    rows = []
    for (event_id, _), day in zip(macro, days, strict=True):
        on_day = z[z["ts"] == day]
        for sector, group in on_day.groupby("sector"):
            rows.append((event_id, sector, round(min(1.0, float(group["z"].abs().mean()) / 3), 4), len(group)))
    with ledger.transaction(conn), conn.cursor() as cur:
        cur.execute("DELETE FROM event_sector_sensitivity WHERE event_id = ANY(%s)", ([e for e, _ in macro],))
        cur.executemany(
            "INSERT INTO event_sector_sensitivity (event_id, sector, sensitivity, observations)"
            " VALUES (%s, %s, %s, %s)",
            rows,
        )
    return len(rows)


def _run_events(conn, run_id: int) -> list[dict]:
    return ledger.market_events(conn, ledger.get_run(conn, run_id)["stats"].get("event_ids", []))


def classify(conn, judge: Judge, run_id: int) -> dict:
    """Ask the analyst for each event's type, impact and sentiment (cached); update the ledger rows."""
    events = _run_events(conn, run_id)
    judgements = judge.classify_events(
        [
            EventInput(title=e["title"], summary=e["summary"], symbol=e["symbol"], source=e["source"], facts=e["facts"])
            for e in events
        ]
    )
    with ledger.transaction(conn), conn.cursor() as cur:
        cur.executemany(
            "UPDATE market_event SET event_type = %s, impact = %s, sentiment = %s, analyst = %s, model = %s,"
            " prompt_version = %s WHERE event_id = %s AND (event_type, impact, sentiment, analyst, model,"
            " prompt_version) IS DISTINCT FROM (%s, %s, %s, %s, %s, %s)",
            [(*_verdict(j), e["event_id"], *_verdict(j)) for e, j in zip(events, judgements, strict=True)],
        )
    stats = {f"analyst_{k}": v for k, v in judge.stats.items()}
    stats["by_type"] = dict(Counter(j.value.event_type for j in judgements))
    ledger.update_run(conn, run_id, stats={"classification": stats})
    log.info("run %d: classified %d events %s; analyst %s", run_id, len(events), stats["by_type"], judge.stats)
    return stats


def _verdict(j) -> tuple:
    return (j.value.event_type, j.value.impact, j.value.sentiment, j.analyst, j.model, j.prompt_version)


def graph_events(conn, driver, run_id: int) -> int:
    """MarketEvent nodes with AFFECTED_BY (companies) and AFFECTS (sectors) edges, from the ledger."""
    events = _run_events(conn, run_id)
    rows = [
        {
            "event_id": e["event_id"],
            "type": e["event_type"],
            "date": e["occurred_at"].date(),
            "title": e["title"],
            "source": e["source"],
            "impact": e["impact"],
            "sentiment": e["sentiment"],
            "symbol": e["symbol"],
        }
        for e in events
    ]
    exposures = [
        {"event_id": r[0], "sector": r[1], "sensitivity": r[2], "observations": r[3]}
        for r in conn.execute(
            "SELECT event_id, sector, sensitivity, observations FROM event_sector_sensitivity WHERE event_id = ANY(%s)",
            ([e["event_id"] for e in events],),
        ).fetchall()
    ]
    graph.merge_events(driver, rows, exposures)
    log.info("run %d: %d MarketEvent nodes, %d sector exposures", run_id, len(rows), len(exposures))
    return len(rows)


def vectorise_events(conn, chroma_client, run_id: int) -> int:
    """One Chroma document per event, id ``market_event:{event_id}``, filterable by type, symbol and date."""
    records = index.event_records(conn, ledger.get_run(conn, run_id)["stats"].get("event_ids", []))
    written = records.upsert(vectors.market_events(chroma_client))
    log.info("run %d: %d event documents, %d embedded", run_id, len(records), written)
    return written


def cache_recent(conn, redis_client, run_id: int) -> int:
    """Redis ``events:{SYMBOL}:recent`` sorted sets (score = event time), trimmed to the newest 50."""
    scored: dict[str, dict[str, float]] = {}
    for e in _run_events(conn, run_id):
        scored.setdefault(cache.recent_events_key(e["symbol"]), {})[str(e["event_id"])] = e["occurred_at"].timestamp()
    return cache.add_recent(redis_client, scored, keep=RECENT_EVENTS_KEPT)


def announce(conn, redis_client, run_id: int) -> int:
    """Last: one ``market_events`` JSON message per event of the run, then the run is marked succeeded."""
    messages = [
        {
            "event_id": e["event_id"],
            "symbol": e["symbol"],
            "type": e["event_type"],
            "impact": e["impact"],
            "sentiment": e["sentiment"],
            "date": e["occurred_at"].date().isoformat(),
        }
        for e in _run_events(conn, run_id)
    ]
    sent = cache.publish(redis_client, cache.MARKET_EVENTS, messages)
    ledger.update_run(conn, run_id, stats={"announced": sent}, status="succeeded")
    return sent
