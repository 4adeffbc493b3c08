"""Pipeline 2, company graph: fundamentals -> competitors -> Neo4j -> Chroma -> Redis -> announce.

A company shares its Neo4j node with Pipeline 1's Stock: one node labelled ``:Stock:Company``,
keyed by symbol, so prices, fundamentals, competitors, events and correlations meet on it.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass

from axiom import index
from axiom.analysts.judge import Judge
from axiom.pipelines import prices
from axiom.pipelines.steps import Step
from axiom.sources.companies import fetch_fundamentals
from axiom.stores import cache, graph, ledger, vectors
from axiom.validation import is_symbol, is_text, parse_date, parse_symbols, split_rows

log = logging.getLogger(__name__)

PIPELINE = "company_graph"
DATASET = "company_fundamentals"


@dataclass(frozen=True)
class CompanyParams:
    """Which companies to (re)build (None: all the provider knows), and from which provider."""

    provider: str = "offline"
    symbols: list[str] | None = None

    @classmethod
    def parse(cls, params: dict) -> CompanyParams:
        return cls(provider=params.get("provider") or "offline", symbols=parse_symbols(params.get("symbols")))


def _nonneg_or_none(value) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0)


RULES = [
    ("malformed symbol", lambda r: is_symbol(r.get("symbol"))),
    ("missing or unparseable as_of date", lambda r: parse_date(r["as_of"], "as_of") is not None),
    ("name missing or longer than 200 characters", lambda r: is_text(r.get("name"), 200)),
    ("sector missing or longer than 100 characters", lambda r: is_text(r.get("sector"), 100)),
    ("industry missing or longer than 100 characters", lambda r: is_text(r.get("industry"), 100)),
    ("description missing or longer than 10,000 characters", lambda r: is_text(r.get("description"), 10_000)),
    ("market cap must be a positive number", lambda r: r.get("market_cap_usd") is None or r["market_cap_usd"] > 0),
    ("debt-to-equity must be a non-negative number", lambda r: _nonneg_or_none(r.get("debt_to_equity"))),
]


def load_fundamentals(conn, params: CompanyParams, *, rows: list[dict] | None = None, origin: str | None = None) -> int:
    """Open a run, validate fundamentals (rejects kept with reasons), upsert dated snapshots; return the run id."""
    run_id = ledger.runs.start_run(
        conn, pipeline=PIPELINE, provider=params.provider, params={"symbols": params.symbols}, origin=origin
    )
    raw = rows if rows is not None else fetch_fundamentals(params.provider, params.symbols)
    good, rejects = split_rows(raw, RULES)
    ledger.runs.record_rejects(conn, run_id, DATASET, rejects)
    ledger.companies.upsert_fundamentals(conn, good, run_id=run_id)
    ledger.runs.update_scope(conn, run_id, symbols=tuple(sorted({r["symbol"] for r in good})))
    stats = {
        "fetched": len(raw),
        "accepted": len(good),
        "rejected": len(rejects),
        "reject_reasons": dict(Counter(rejects.reasons)),
    }
    ledger.runs.add_stats(conn, run_id, stats)
    for payload, reason in zip(rejects.payloads, rejects.reasons, strict=True):
        log.warning("run %d: rejected %s: %s", run_id, str(payload.get("symbol"))[:40], reason)
    log.info("run %d: %d companies stored, %d rejected", run_id, len(good), len(rejects))
    return run_id


def name_competitors(conn, run_id: int, *, judge: Judge) -> dict:
    """Ask the analyst for each company's competitors within the known universe; store them."""
    symbols = set(ledger.runs.scope(conn, run_id).symbols)
    universe = ledger.companies.latest_companies(conn)
    targets = [c for c in universe if c.symbol in symbols]
    judgements = judge.competitors(targets, universe)
    snapshots = ledger.companies.snapshot_dates(conn, [c.symbol for c in targets])
    rows = [
        (
            c.symbol,
            comp.symbol,
            snapshots[c.symbol],
            comp.intensity,
            comp.rationale,
            j.analyst,
            j.model,
            j.prompt_version,
            run_id,
        )
        for c, j in zip(targets, judgements, strict=True)
        for comp in j.value
    ]
    ledger.companies.replace_competitors(conn, rows, snapshots)
    stats = {"competitor_rows": len(rows), "analyst": judge.stats}
    ledger.runs.add_stats(conn, run_id, {"competitors": stats})
    log.info("run %d: %d competitor links; analyst %s", run_id, len(rows), judge.stats)
    return stats


def company_rows(conn, symbols: list[str]) -> list[dict]:
    """The facts of each company's latest snapshot, as the graph and the cache hold them."""
    snapshots = ledger.companies.snapshot_dates(conn, symbols)
    return [
        {
            "symbol": c.symbol,
            "name": c.name,
            "sector": c.sector,
            "industry": c.industry,
            "market_cap_usd": c.market_cap_usd,
            "debt_to_equity": c.debt_to_equity,
            "as_of": snapshots[c.symbol],
        }
        for c in ledger.companies.latest_companies(conn, symbols)
    ]


def record_sector_momentum(conn, run_id: int) -> int:
    """Ledger ``sector_momentum`` of every session again: the companies' sectors decide its members."""
    return prices.refresh_sector_momentum(conn, run_id, since=None)


def graph_companies(conn, run_id: int, *, driver) -> int:
    """Company and Sector nodes, BELONGS_TO and COMPETES_WITH edges, from the ledger."""
    symbols = list(ledger.runs.scope(conn, run_id).symbols)
    companies = company_rows(conn, symbols)
    pairs = ledger.companies.competing_pairs(conn, symbols)
    graph.merge_companies(driver, companies, pairs)
    log.info("run %d: %d companies, %d competing pairs in the graph", run_id, len(companies), len(pairs))
    return len(companies)


def vectorise_descriptions(conn, run_id: int, *, chroma_client) -> int:
    """One Chroma document per company (its description), id ``company:{SYMBOL}``."""
    records = index.company_records(conn, list(ledger.runs.scope(conn, run_id).symbols))
    written = records.upsert(vectors.companies(chroma_client))
    ledger.runs.add_stats(conn, run_id, {"vectorised": written})
    log.info("run %d: %d company descriptions, %d embedded", run_id, len(records), written)
    return written


def metadata_items(conn, symbols: list[str] | None = None) -> dict[str, dict]:
    """``company:{SYMBOL}:metadata`` key -> the company's latest facts (all companies when ``symbols`` is None)."""
    symbols = ledger.companies.symbols(conn) if symbols is None else symbols
    return {cache.company_metadata_key(row["symbol"]): row for row in company_rows(conn, symbols)}


def cache_metadata(conn, run_id: int, *, redis_client, ttl_seconds: int) -> int:
    """Redis ``company:{SYMBOL}:metadata`` JSON for fast API reads."""
    items = metadata_items(conn, list(ledger.runs.scope(conn, run_id).symbols))
    return cache.cache_json(redis_client, items, ttl_seconds=ttl_seconds)


def announce(conn, run_id: int, *, redis_client) -> int:
    """Last: one ``company_updates`` message per company, then the run is marked succeeded."""
    symbols = ledger.runs.scope(conn, run_id).symbols
    sent, received = cache.publish(
        redis_client, cache.COMPANY_UPDATES, [{"symbol": s, "type": "company", "run_id": run_id} for s in symbols]
    )
    ledger.runs.finish(conn, run_id, "succeeded", {"announced": sent, "received": received})
    return sent


STEPS = (
    Step(name_competitors, "postgres"),
    Step(graph_companies, "neo4j"),
    Step(vectorise_descriptions, "chroma"),
    Step(cache_metadata, "redis", {"ttl_seconds": "company_metadata_ttl"}),
    Step(record_sector_momentum, "postgres"),
    Step(prices.cache_sector_momentum, "redis", {"ttl_seconds": "latest_price_ttl"}),
    Step(prices.graph_rotation, "neo4j"),
    Step(announce, "pubsub"),
)
"""After ``load_fundamentals`` opens the run, in this order."""
