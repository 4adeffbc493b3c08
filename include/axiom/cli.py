"""``python -m axiom``: the domain functions from a shell, without Airflow.

python -m axiom migrate                      apply the PostgreSQL and Neo4j schema (and renamed Redis keys)
python -m axiom status [--no-drift]          counts per store and the drift summary, as one JSON object
python -m axiom ingest [--symbols AAPL,MSFT] [--start 2022-01-01] [--end 2022-12-31] [--provider offline]
python -m axiom synth [--symbols 500] [--years 10] [--seed 7]   write the synthetic (simulated) universe
python -m axiom search TEXT [--kinds companies] [--event-type fed_decision] [--since D] [--until D]
python -m axiom similar-companies JPM
python -m axiom similar-patterns AAPL --as-of 2020-03-31 [--horizon 20]
python -m axiom ask buy AAPL [--as-of 2020-03-23] [--json]      is AAPL a buy?
python -m axiom ask rotation [--as-of D]                         which sectors are rotating into strength?
python -m axiom ask cascade [--event 2022-06-15 | --event "hike 50bp"] [--as-of D]   risk after a Fed decision
python -m axiom ask like AAPL [--as-of D]                        stocks like AAPL
python -m axiom signals [--follow]           the latest divergence alerts (--follow: as a stream consumer)
python -m axiom evaluate [--start 2005-01-01] [--end 2022-12-31] [--horizon 20]   walk-forward evaluation
python -m axiom doctor [--json]              does every projection hold what the ledger says? (exit 1: drift)
python -m axiom rebuild --store redis|neo4j|chroma   rebuild a projection from the ledger alone
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from axiom import connections, evaluation, projections, schema, search
from axiom.analysts.judge import judge_from_env
from axiom.config import Settings
from axiom.insights.ask import ask, render
from axiom.insights.common import Stores
from axiom.models import NothingChanged
from axiom.pipelines import prices
from axiom.sources import synthetic
from axiom.status import counts
from axiom.stores import cache, ledger
from axiom.validation import parse_date


def cmd_migrate(args, settings: Settings) -> None:
    with connections.postgres() as pg:
        applied = schema.migrate_postgres(pg)
    with connections.neo4j() as driver:
        statements = schema.migrate_neo4j(driver)
    moved = schema.migrate_redis(connections.redis())
    print(json.dumps({"postgres_applied": applied, "neo4j_statements": statements, "redis_keys_moved": moved}))


def cmd_status(args, settings: Settings) -> None:
    """Counts per store, and (unless --no-drift) per store how many kinds of projected things drifted."""
    with connections.postgres() as pg, connections.neo4j() as driver:
        clients = (connections.redis(), driver, connections.chroma())
        summary = counts(pg, *clients, window=settings.pattern_window)
        if not args.no_drift:
            summary["drift"] = projections.summary(projections.doctor(pg, *clients, window=settings.pattern_window))
    print(json.dumps(summary, sort_keys=True, indent=2 if args.pretty else None))


def cmd_ingest(args, settings: Settings) -> None:
    """Run Pipeline 1's steps in order, as the Airflow DAG does."""
    params = prices.IngestParams.parse(
        {
            "provider": args.provider or settings.price_provider,
            "symbols": args.symbols,
            "start": args.start,
            "end": args.end,
        }
    )
    pg, rds, neo, chroma = connections.postgres(), connections.redis(), connections.neo4j(), connections.chroma()
    try:
        run_id = prices.fetch(pg, params, landing_dir=settings.landing_dir)
        prices.validate(pg, run_id)
        prices.load(pg, run_id)
        prices.cache_latest(pg, run_id, redis_client=rds, ttl_seconds=settings.latest_price_ttl)
        prices.graph_stocks(pg, run_id, driver=neo)
        prices.vectorise_patterns(pg, run_id, chroma_client=chroma, window=settings.pattern_window)
        prices.record_sector_momentum(pg, run_id)
        prices.cache_sector_momentum(pg, run_id, redis_client=rds, ttl_seconds=settings.latest_price_ttl)
        try:
            prices.announce(pg, run_id, redis_client=rds)
        except NothingChanged as nothing:
            print(f"axiom: {nothing}", file=sys.stderr)
        print(json.dumps({"run_id": run_id, **ledger.runs.get_run(pg, run_id).stats}, default=str))
    finally:
        pg.close()
        neo.close()


def cmd_synth(args, settings: Settings) -> None:
    """Write the synthetic universe (provider ``synthetic``) into the synthetic folder."""
    universe = synthetic.generate(args.symbols, args.years, args.seed)
    folder = synthetic.write(universe, settings.synthetic_dir)
    summary = {k: v for k, v in universe.manifest.items() if k != "symbols"}
    print(json.dumps({"folder": str(folder), "symbols": args.symbols, **summary}))


def cmd_search(args, settings: Settings) -> None:
    where = search.where_clause(event_type=args.event_type, symbol=args.symbol, since=args.since, until=args.until)
    kinds = args.kinds.split(",") if args.kinds else None
    for rank, hit in enumerate(search.search(connections.chroma(), args.text, kinds=kinds, where=where, k=args.k), 1):
        print(f"{rank:>2}. [{hit.kind}] {hit.id}  distance {hit.distance:.3f}\n    {(hit.document or '')[:160]}")


def cmd_similar_companies(args, settings: Settings) -> None:
    for rank, hit in enumerate(search.similar_companies(connections.chroma(), args.symbol.upper(), args.k), 1):
        print(f"{rank:>2}. {hit.metadata['symbol']:<6} {hit.metadata['name']:<34} distance {hit.distance:.3f}")


def cmd_similar_patterns(args, settings: Settings) -> None:
    as_of = parse_date(args.as_of, "--as-of")
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


def cmd_ask(args, settings: Settings) -> None:
    """Answer one of the four questions from all four stores and print it (or its JSON)."""
    subject = args.event if args.question == "cascade" else args.subject
    if args.question in ("buy", "like") and not subject:
        raise ValueError(f"ask {args.question} needs a symbol, e.g. ask {args.question} AAPL")
    with connections.postgres() as pg, connections.neo4j() as driver:
        stores = Stores(pg, connections.redis(), driver, connections.chroma())
        insight = ask(
            stores,
            args.question,
            judge=judge_from_env(pg),
            subject=subject,
            as_of=args.as_of,
            use_cache=not args.no_cache,
            ttl_seconds=settings.insight_ttl,
        )
    print(json.dumps(insight.to_json(), indent=2, default=str) if args.json else render(insight))


def cmd_signals(args, settings: Settings) -> None:
    """Without --follow: the newest signals on the stream. With it: read as a consumer group member,
    print each alert (those left unacknowledged first), acknowledge it, and wait for more."""
    client = connections.redis()
    if not args.follow:
        latest = cache.latest_signals(client, args.count)
        print("no divergence alerts" if not latest else "\n".join(_signal_line(s) for s in latest))
        return
    print(f"following {cache.SIGNAL_STREAM} as {args.consumer} of group {args.group} (Ctrl-C to stop)")
    try:
        while True:
            entries = cache.read_signals(client, group=args.group, consumer=args.consumer, block_ms=5000)
            for _, signal in entries:
                print(_signal_line(signal), flush=True)
            cache.acknowledge(client, args.group, [entry_id for entry_id, _ in entries])
    except KeyboardInterrupt:
        pass


def _signal_line(s: dict) -> str:
    return (
        f"{s['session']}  {s['a']}/{s['b']}  {s['moved']} moved  z {s['z']:+.2f}  r {s['coefficient']:.2f}  "
        f"{s['a']} {s['close_a']:.2f} ({s['return_a']:+.2%})  {s['b']} {s['close_b']:.2f} ({s['return_b']:+.2%})"
        f"\n    {s['trade']}"
    )


def cmd_evaluate(args, settings: Settings) -> None:
    """Walk-forward evaluation of the buy verdicts and of divergences; headline tables and one chart."""
    params = evaluation.EvaluationParams.parse({"start": args.start, "end": args.end, "horizon": args.horizon})
    with connections.postgres() as pg:
        verdicts = evaluation.evaluate_buy(pg, params)
        spreads = evaluation.evaluate_divergences(pg, params)
    print(evaluation.headline(verdicts, spreads))
    if args.chart:
        evaluation.charts(verdicts, spreads, args.chart)
        print(f"chart: {args.chart}")


def cmd_doctor(args, settings: Settings) -> int:
    """Compare every projection with the ledger; print what differs, per store; exit 1 on drift."""
    with connections.postgres() as pg, connections.neo4j() as driver:
        drifts = projections.doctor(
            pg, connections.redis(), driver, connections.chroma(), window=settings.pattern_window
        )
    if args.json:
        print(json.dumps([d.as_dict() for d in drifts], indent=2))
    for d in [] if args.json else drifts:
        mark = "DRIFT" if d.drifted else "ok"
        line = f"{mark:5}  {d.store:6} {d.kind:20} expected {d.expected:>7}  held {d.held:>7}"
        for name in ("missing", "extra", "different") if d.drifted else ():
            if found := getattr(d, name):
                line += f"\n         {name} ({len(found)}): {', '.join(str(k) for k in found[: projections.EXAMPLES])}"
        print(line)
    drifted = projections.summary(drifts)
    if any(drifted.values()):
        stores = [s for s, n in drifted.items() if n]
        print(f"drift in {', '.join(stores)}: python -m axiom rebuild --store {stores[0]}", file=sys.stderr)
        return 1
    print("no drift: every projection holds what the ledger says", file=sys.stderr if args.json else sys.stdout)
    return 0


def cmd_rebuild(args, settings: Settings) -> None:
    """Empty one projection and write it again from the ledger alone."""
    with connections.postgres() as pg:
        if args.store == "neo4j":
            with connections.neo4j() as driver:
                done = projections.rebuild(pg, "neo4j", driver, settings=settings)
        else:
            client = connections.redis() if args.store == "redis" else connections.chroma()
            done = projections.rebuild(pg, args.store, client, settings=settings)
    print(json.dumps(done, default=str))


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="axiom", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply the schema").set_defaults(run=cmd_migrate)
    status = sub.add_parser("status", help="counts per store as JSON")
    status.add_argument("--pretty", action="store_true", help="indented, one store per block")
    status.add_argument("--no-drift", action="store_true", help="counts only, without the drift check")
    status.set_defaults(run=cmd_status)
    ing = sub.add_parser("ingest", help="run the price ingestion pipeline without Airflow")
    ing.add_argument("--symbols", default=None, help="comma-separated tickers (default: the provider's universe)")
    ing.add_argument("--start", default=None, help="first session, YYYY-MM-DD")
    ing.add_argument("--end", default=None, help="last session, YYYY-MM-DD")
    ing.add_argument("--provider", default=None, help="offline (default), yfinance or synthetic")
    ing.set_defaults(run=cmd_ingest)
    syn = sub.add_parser("synth", help="write the synthetic universe (simulated prices and companies)")
    syn.add_argument("--symbols", type=positive_int, default=500, help="how many symbols (SYN0001...)")
    syn.add_argument("--years", type=positive_int, default=10, help="years of daily sessions to 2022-12-30")
    syn.add_argument("--seed", type=int, default=7)
    syn.set_defaults(run=cmd_synth)
    find = sub.add_parser("search", help="search companies, events and correlations by meaning")
    find.add_argument("text")
    find.add_argument("--kinds", default=None, help="comma-separated: companies, market_events, correlations")
    find.add_argument("--event-type", default=None)
    find.add_argument("--symbol", default=None)
    find.add_argument("--since", default=None, help="YYYY-MM-DD")
    find.add_argument("--until", default=None, help="YYYY-MM-DD")
    find.add_argument("--k", type=positive_int, default=10)
    find.set_defaults(run=cmd_search)
    like = sub.add_parser("similar-companies", help="companies whose descriptions are nearest")
    like.add_argument("symbol")
    like.add_argument("--k", type=positive_int, default=5)
    like.set_defaults(run=cmd_similar_companies)
    pat = sub.add_parser("similar-patterns", help="past return windows nearest to a symbol's, and what followed")
    pat.add_argument("symbol")
    pat.add_argument("--as-of", required=True, help="YYYY-MM-DD")
    pat.add_argument("--horizon", type=positive_int, default=20)
    pat.add_argument("--k", type=positive_int, default=5)
    pat.set_defaults(run=cmd_similar_patterns)
    question = sub.add_parser("ask", help="answer a question from all four stores, point in time")
    question.add_argument("question", choices=["buy", "rotation", "cascade", "like"])
    question.add_argument("subject", nargs="?", default=None, help="the symbol (buy, like)")
    question.add_argument("--as-of", default=None, help="YYYY-MM-DD; default: the ledger's newest session")
    question.add_argument("--event", default=None, help="cascade: a decision date, or e.g. 'hike 50bp'")
    question.add_argument("--json", action="store_true", help="the answer as JSON")
    question.add_argument("--no-cache", action="store_true", help="recompute, and keep nothing")
    question.set_defaults(run=cmd_ask)
    sig = sub.add_parser("signals", help="divergence alerts from the signal stream")
    sig.add_argument("--follow", action="store_true", help="read as a consumer group member and wait for more")
    sig.add_argument("--group", default="axiom-cli")
    sig.add_argument("--consumer", default="cli")
    sig.add_argument("--count", type=positive_int, default=10)
    sig.set_defaults(run=cmd_signals)
    ev = sub.add_parser("evaluate", help="walk-forward evaluation of the buy verdicts and divergences")
    ev.add_argument("--start", default="2005-01-01", help="YYYY-MM-DD")
    ev.add_argument("--end", default="2022-12-31", help="YYYY-MM-DD")
    ev.add_argument("--horizon", type=positive_int, default=20, help="sessions after each date")
    ev.add_argument("--chart", default=None, help="write the chart (PNG) here")
    ev.set_defaults(run=cmd_evaluate)
    doc = sub.add_parser("doctor", help="compare every projection with the ledger (exit 1 on drift)")
    doc.add_argument("--json", action="store_true", help="every comparison as JSON")
    doc.set_defaults(run=cmd_doctor)
    reb = sub.add_parser("rebuild", help="rebuild one projection from the ledger alone")
    reb.add_argument("--store", required=True, choices=projections.STORES)
    reb.set_defaults(run=cmd_rebuild)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for chatty in ("httpx", "neo4j.notifications"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    try:
        return args.run(args, Settings.from_env()) or 0
    except ValueError as exc:  # bad input: a usage error, not a traceback
        parser.error(str(exc))
    except LookupError as exc:
        print(f"axiom: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
