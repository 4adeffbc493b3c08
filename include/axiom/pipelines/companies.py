"""Pipeline 2, company graph: fundamentals -> competitors -> Neo4j -> Chroma -> Redis -> announce.

A company shares its Neo4j node with Pipeline 1's Stock: one node labelled ``:Stock:Company``,
keyed by symbol, so prices, fundamentals, competitors, events and correlations meet on it.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import date

from axiom import index
from axiom.analysts.judge import Judge
from axiom.sources.companies import fetch_fundamentals
from axiom.stores import cache, graph, ledger, vectors
from axiom.validation import is_symbol, is_text, split_rows

log = logging.getLogger(__name__)

PIPELINE = "company_graph"
DATASET = "company_fundamentals"
COLUMNS = ("symbol", "as_of", "name", "sector", "industry", "description", "market_cap_usd", "debt_to_equity", "source")


def _nonneg_or_none(value) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0)


RULES = [
    ("malformed symbol", lambda r: is_symbol(r.get("symbol"))),
    ("missing or unparseable as_of date", lambda r: date.fromisoformat(str(r["as_of"])[:10]) is not None),
    ("name missing or longer than 200 characters", lambda r: is_text(r.get("name"), 200)),
    ("sector missing or longer than 100 characters", lambda r: is_text(r.get("sector"), 100)),
    ("industry missing or longer than 100 characters", lambda r: is_text(r.get("industry"), 100)),
    ("description missing or longer than 10,000 characters", lambda r: is_text(r.get("description"), 10_000)),
    ("market cap must be a positive number", lambda r: r.get("market_cap_usd") is None or r["market_cap_usd"] > 0),
    ("debt-to-equity must be a non-negative number", lambda r: _nonneg_or_none(r.get("debt_to_equity"))),
]


def load_fundamentals(conn, *, provider: str, symbols: list[str] | None, rows: list[dict] | None = None) -> int:
    """Open a run, validate fundamentals (rejects kept with reasons), upsert dated snapshots; return the run id."""
    run_id = ledger.start_run(conn, pipeline=PIPELINE, provider=provider, params={"symbols": symbols})
    raw = rows if rows is not None else fetch_fundamentals(provider, symbols)
    good, rejects = split_rows(raw, RULES)
    ledger.record_rejects(conn, run_id, DATASET, rejects)
    with ledger.transaction(conn), conn.cursor() as cur:
        cur.executemany(
            f"INSERT INTO company_fundamentals ({', '.join(COLUMNS)}, run_id)"
            f" VALUES ({', '.join(['%s'] * (len(COLUMNS) + 1))})"
            " ON CONFLICT (symbol, as_of) DO UPDATE SET name = EXCLUDED.name, sector = EXCLUDED.sector,"
            " industry = EXCLUDED.industry, description = EXCLUDED.description,"
            " market_cap_usd = EXCLUDED.market_cap_usd, debt_to_equity = EXCLUDED.debt_to_equity,"
            " source = EXCLUDED.source, run_id = EXCLUDED.run_id"
            " WHERE (company_fundamentals.name, company_fundamentals.sector, company_fundamentals.industry,"
            " company_fundamentals.description, company_fundamentals.market_cap_usd,"
            " company_fundamentals.debt_to_equity, company_fundamentals.source) IS DISTINCT FROM"
            " (EXCLUDED.name, EXCLUDED.sector, EXCLUDED.industry, EXCLUDED.description, EXCLUDED.market_cap_usd,"
            " EXCLUDED.debt_to_equity, EXCLUDED.source)",
            [(*tuple(r.get(c) for c in COLUMNS), run_id) for r in good],
        )
    stats = {
        "fetched": len(raw),
        "accepted": len(good),
        "rejected": len(rejects),
        "reject_reasons": dict(Counter(rejects.reasons)),
        "symbols": sorted({r["symbol"] for r in good}),
    }
    ledger.update_run(conn, run_id, stats=stats)
    for payload, reason in zip(rejects.payloads, rejects.reasons, strict=True):
        log.warning("run %d: rejected %s: %s", run_id, str(payload.get("symbol"))[:40], reason)
    log.info("run %d: %d companies stored, %d rejected", run_id, len(good), len(rejects))
    return run_id


def _as_of(conn, symbols: list[str]) -> dict[str, date]:
    rows = conn.execute(
        "SELECT symbol, max(as_of) FROM company_fundamentals WHERE symbol = ANY(%s) GROUP BY symbol", (symbols,)
    ).fetchall()
    return dict(rows)


def name_competitors(conn, judge: Judge, run_id: int) -> dict:
    """Ask the analyst for each company's competitors within the known universe; store them."""
    symbols = ledger.get_run(conn, run_id)["stats"].get("symbols", [])
    universe = ledger.latest_companies(conn)
    targets = [c for c in universe if c.symbol in set(symbols)]
    judgements = judge.competitors(targets, universe)
    as_of = _as_of(conn, symbols)
    rows = [
        (
            c.symbol,
            comp.symbol,
            as_of[c.symbol],
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
    with ledger.transaction(conn), conn.cursor() as cur:
        cur.execute(
            "DELETE FROM company_competitor c USING unnest(%s::text[], %s::date[]) AS t(symbol, as_of)"
            " WHERE c.symbol = t.symbol AND c.as_of = t.as_of",
            ([c.symbol for c in targets], [as_of[c.symbol] for c in targets]),
        )
        cur.executemany(
            "INSERT INTO company_competitor (symbol, competitor, as_of, intensity, rationale, analyst, model,"
            " prompt_version, run_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            rows,
        )
    stats = {"competitor_rows": len(rows), **{f"analyst_{k}": v for k, v in judge.stats.items()}}
    ledger.update_run(conn, run_id, stats={"competitors": stats})
    log.info("run %d: %d competitor links; analyst %s", run_id, len(rows), judge.stats)
    return stats


def competing_pairs(conn, symbols: list[str]) -> list[dict]:
    """Each competing pair once (a < b), from the companies' latest snapshots; the stronger judgement wins."""
    rows = conn.execute(
        "WITH latest AS (SELECT symbol, max(as_of) AS as_of FROM company_competitor GROUP BY symbol)"
        " SELECT least(c.symbol, c.competitor) AS a, greatest(c.symbol, c.competitor) AS b, max(c.intensity),"
        " (array_agg(c.analyst ORDER BY c.intensity DESC))[1], max(c.as_of)"
        " FROM company_competitor c JOIN latest l USING (symbol, as_of)"
        " WHERE c.symbol = ANY(%s) OR c.competitor = ANY(%s) GROUP BY 1, 2 ORDER BY 1, 2",
        (symbols, symbols),
    ).fetchall()
    return [{"a": a, "b": b, "intensity": i, "analyst": an, "as_of": d} for a, b, i, an, d in rows]


def company_rows(conn, symbols: list[str]) -> list[dict]:
    """The facts of each company's latest snapshot, as the graph and the cache hold them."""
    as_of = _as_of(conn, symbols)
    return [
        {
            "symbol": c.symbol,
            "name": c.name,
            "sector": c.sector,
            "industry": c.industry,
            "market_cap_usd": c.market_cap_usd,
            "debt_to_equity": c.debt_to_equity,
            "as_of": as_of[c.symbol],
        }
        for c in ledger.latest_companies(conn, symbols)
    ]


def graph_companies(conn, driver, run_id: int) -> int:
    """Company and Sector nodes, BELONGS_TO and COMPETES_WITH edges, from the ledger."""
    symbols = ledger.get_run(conn, run_id)["stats"].get("symbols", [])
    companies = company_rows(conn, symbols)
    pairs = competing_pairs(conn, symbols)
    graph.merge_companies(driver, companies, pairs)
    log.info("run %d: %d companies, %d competing pairs in the graph", run_id, len(companies), len(pairs))
    return len(companies)


def vectorise_descriptions(conn, chroma_client, run_id: int) -> int:
    """One Chroma document per company (its description), id ``company:{SYMBOL}``."""
    records = index.company_records(conn, ledger.get_run(conn, run_id)["stats"].get("symbols", []))
    written = records.upsert(vectors.companies(chroma_client))
    log.info("run %d: %d company descriptions, %d embedded", run_id, len(records), written)
    return written


def cache_metadata(conn, redis_client, run_id: int, *, ttl_seconds: int) -> int:
    """Redis ``company:{SYMBOL}:metadata`` JSON for fast API reads."""
    symbols = ledger.get_run(conn, run_id)["stats"].get("symbols", [])
    items = {cache.company_metadata_key(row["symbol"]): row for row in company_rows(conn, symbols)}
    return cache.cache_json(redis_client, items, ttl_seconds=ttl_seconds)


def announce(conn, redis_client, run_id: int) -> int:
    """Last: one ``graph_updates`` message per company, then the run is marked succeeded."""
    symbols = ledger.get_run(conn, run_id)["stats"].get("symbols", [])
    sent = cache.publish(
        redis_client, cache.GRAPH_UPDATES, [{"symbol": s, "type": "company", "run_id": run_id} for s in symbols]
    )
    ledger.update_run(conn, run_id, stats={"announced": sent}, status="succeeded")
    return sent
