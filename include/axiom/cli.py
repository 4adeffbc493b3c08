"""``python -m axiom``: the domain functions from a shell, without Airflow.

python -m axiom migrate                      apply the PostgreSQL and Neo4j schema
python -m axiom status                       counts per store, as one JSON object
python -m axiom ingest [--symbols AAPL,MSFT] [--start 2022-01-01] [--end 2022-12-31] [--provider offline]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from axiom import connections, schema, search
from axiom.config import Settings
from axiom.pipelines import prices
from axiom.status import counts


def ingest(params: prices.IngestParams, settings: Settings) -> dict:
    """Run Pipeline 1's steps in order, as the Airflow DAG does."""
    pg, rds, neo, chroma = connections.postgres(), connections.redis(), connections.neo4j(), connections.chroma()
    try:
        run_id = prices.fetch(pg, params, landing_dir=settings.landing_dir)
        prices.validate(pg, run_id)
        prices.load(pg, run_id)
        prices.cache_latest(pg, rds, run_id, ttl_seconds=settings.latest_price_ttl)
        prices.graph_stocks(pg, neo, run_id)
        prices.vectorise_patterns(pg, chroma, run_id, window=settings.pattern_window)
        prices.announce(pg, rds, run_id)
        return {"run_id": run_id, **prices.ledger.get_run(pg, run_id)["stats"]}
    finally:
        pg.close()
        neo.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="axiom", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply the schema")
    status = sub.add_parser("status", help="counts per store as JSON")
    status.add_argument("--pretty", action="store_true", help="indented, one store per block")
    ing = sub.add_parser("ingest", help="run the price ingestion pipeline without Airflow")
    ing.add_argument("--symbols", default=None, help="comma-separated tickers (default: the provider's universe)")
    ing.add_argument("--start", default=None)
    ing.add_argument("--end", default=None)
    ing.add_argument("--provider", default=None, help="offline (default) or yfinance")
    find = sub.add_parser("search", help="search companies, events and correlations by meaning")
    find.add_argument("text")
    find.add_argument("--kinds", default=None, help="comma-separated: companies, market_events, correlations")
    find.add_argument("--event-type", default=None)
    find.add_argument("--symbol", default=None)
    find.add_argument("--since", default=None)
    find.add_argument("--until", default=None)
    find.add_argument("--k", type=int, default=10)
    like = sub.add_parser("similar-companies", help="companies whose descriptions are nearest")
    like.add_argument("symbol")
    like.add_argument("--k", type=int, default=5)
    pat = sub.add_parser("similar-patterns", help="past return windows nearest to a symbol's, and what followed")
    pat.add_argument("symbol")
    pat.add_argument("--as-of", required=True)
    pat.add_argument("--horizon", type=int, default=20)
    pat.add_argument("--k", type=int, default=5)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for chatty in ("httpx", "neo4j.notifications", "sentence_transformers"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    settings = Settings.from_env()

    if args.command == "migrate":
        with connections.postgres() as pg:
            applied = schema.migrate_postgres(pg)
        with connections.neo4j() as driver:
            statements = schema.migrate_neo4j(driver)
        print(json.dumps({"postgres_applied": applied, "neo4j_statements": statements}))
    elif args.command == "status":
        with connections.postgres() as pg, connections.neo4j() as driver:
            summary = counts(pg, connections.redis(), driver, connections.chroma(), window=settings.pattern_window)
            print(json.dumps(summary, sort_keys=True, indent=2 if args.pretty else None))
    elif args.command == "ingest":
        try:
            params = prices.IngestParams.parse(
                provider=args.provider or settings.price_provider, symbols=args.symbols, start=args.start, end=args.end
            )
        except ValueError as exc:
            parser.error(str(exc))
        print(json.dumps(ingest(params, settings), default=str))
    elif args.command == "search":
        dates = prices.IngestParams.parse(provider="offline", start=args.since, end=args.until)
        where = search.where_clause(event_type=args.event_type, symbol=args.symbol, since=dates.start, until=dates.end)
        kinds = args.kinds.split(",") if args.kinds else None
        for rank, hit in enumerate(
            search.search(connections.chroma(), args.text, kinds=kinds, where=where, k=args.k), 1
        ):
            print(f"{rank:>2}. [{hit.kind}] {hit.id}  distance {hit.distance:.3f}\n    {(hit.document or '')[:160]}")
    elif args.command == "similar-companies":
        for rank, hit in enumerate(search.similar_companies(connections.chroma(), args.symbol.upper(), args.k), 1):
            print(f"{rank:>2}. {hit.metadata['symbol']:<6} {hit.metadata['name']:<34} distance {hit.distance:.3f}")
    elif args.command == "similar-patterns":
        as_of = prices.IngestParams.parse(provider="offline", start=args.as_of).start
        with connections.postgres() as pg:
            matches = search.similar_price_patterns(
                pg,
                connections.chroma(),
                args.symbol.upper(),
                as_of,
                k=args.k,
                horizon=args.horizon,
                window=settings.pattern_window,
            )
        for m in matches:
            print(
                f"{m.symbol:<6} window to {m.window_end}  distance {m.distance:.3f}  "
                f"then {m.forward_return:+.2%} by {m.horizon_end}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
