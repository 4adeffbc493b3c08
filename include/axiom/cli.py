"""``python -m axiom``: the domain functions from a shell, without Airflow.

python -m axiom migrate                      the PostgreSQL and Neo4j schema; stored names renamed since, once
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
python -m axiom evaluate [--start 2005-01-01] [--end 2022-12-31] [--horizon 20] [--cost-bp 10] [--charts DIR]
                                             walk-forward evaluation: the buy score as a factor, divergences as pairs
python -m axiom doctor [--json]              does every projection hold what the ledger says? (exit 1: drift)
python -m axiom rebuild --store redis|neo4j|chroma   rebuild a projection from the ledger alone
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time

from axiom import connections, evaluation, projections, schema, search
from axiom.analysts.judge import judge_from_env
from axiom.config import Settings
from axiom.insights.ask import QUESTIONS, ask, render
from axiom.insights.common import Stores
from axiom.pipelines import prices, steps
from axiom.sources import synthetic
from axiom.status import counts
from axiom.stores import cache, ledger
from axiom.validation import parse_date


def cmd_migrate(args, settings: Settings) -> None:
    with connections.postgres() as pg, connections.neo4j() as driver:
        done = schema.migrate(pg, redis_client=connections.redis(), driver=driver)
    print(json.dumps({"postgres_applied": done["postgres"], "neo4j_statements": done["neo4j"],
                      "projection_renames": done["projections"]}))  # fmt: skip


def cmd_status(args, settings: Settings) -> None:
    """Counts per store, and (unless --no-drift) per store how many kinds of projected things drifted."""
    with connections.postgres() as pg, connections.neo4j() as driver:
        clients = (connections.redis(), driver, connections.chroma())
        summary = counts(pg, *clients, window=settings.pattern_window)
        if not args.no_drift:
            summary["drift"] = projections.summary(projections.doctor(pg, *clients, window=settings.pattern_window))
    print(json.dumps(summary, sort_keys=True, indent=2 if args.pretty else None))


def cmd_ingest(args, settings: Settings) -> None:
    """Run Pipeline 1: ``fetch``, then its declared steps in order (the DAG runs the same ``prices.STEPS``)."""
    params = prices.IngestParams.parse(
        {
            "provider": args.provider or settings.price_provider,
            "symbols": args.symbols,
            "start": args.start,
            "end": args.end,
        }
    )
    pg, neo = connections.postgres(), connections.neo4j()
    clients = {"redis_client": connections.redis(), "driver": neo, "chroma_client": connections.chroma()}
    try:
        run_id = prices.fetch(pg, params, landing_dir=settings.landing_dir)
        done = steps.run_all(pg, run_id, prices.STEPS, clients, settings)
        if isinstance(done.get("announce"), str):
            print(f"axiom: {done['announce']}", file=sys.stderr)
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
    subject = QUESTIONS[args.question].SUBJECT
    if subject is None and args.subject:
        raise ValueError(f"ask {args.question} is about no particular {args.subject!r}: leave it out")
    if subject is not None and subject.required and not args.subject:
        raise ValueError(f"ask {args.question} needs a {subject.name}: {subject.description}")
    with connections.postgres() as pg, connections.neo4j() as driver:
        stores = Stores(pg, connections.redis(), driver, connections.chroma())
        insight = ask(
            stores,
            args.question,
            judge=judge_from_env(pg),
            subject=args.subject,
            as_of=args.as_of,
            use_cache=not args.no_cache,
            ttl_seconds=settings.insight_ttl,
        )
    print(json.dumps(insight.to_json(), indent=2, default=str) if args.json else render(insight))


RECONNECT_FIRST, RECONNECT_MAX = 0.5, 30.0  # seconds between tries while Redis is away: doubling, capped
FOLLOW_BLOCK_MS = 2000  # an idle wait well under redis-py's 5 s socket timeout, so waiting is never a timeout


def cmd_signals(args, settings: Settings) -> None:
    """Without --follow: the newest signals on the stream. With it: read as a consumer group member (named per
    process unless --consumer says), print each alert (those left unacknowledged first, also a dead member's),
    acknowledge it, and wait for more; while Redis is away, try again with a growing pause."""
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    client = connections.redis()
    if not args.follow:
        latest = cache.latest_signals(client, args.count)
        print("no divergence alerts" if not latest else "\n".join(_signal_line(s) for s in latest))
        return
    consumer = args.consumer or cache.consumer_name()
    print(f"following {cache.SIGNAL_STREAM} as {consumer} of group {args.group} (Ctrl-C to stop)", flush=True)
    pause, shown = RECONNECT_FIRST, set()  # shown: printed, not yet acknowledged (Redis went away in between)
    try:
        while True:
            try:
                entries = cache.read_signals(client, group=args.group, consumer=consumer, block_ms=FOLLOW_BLOCK_MS)
                for entry_id, signal in entries:
                    if entry_id not in shown:
                        print(_signal_line(signal), flush=True)
                        shown.add(entry_id)
                cache.acknowledge(client, args.group, [entry_id for entry_id, _ in entries])
                shown.difference_update(entry_id for entry_id, _ in entries)
            except (RedisConnectionError, RedisTimeoutError) as exc:
                print(f"redis is unavailable ({exc}); trying again in {pause:g} s", file=sys.stderr, flush=True)
                time.sleep(pause)
                pause = min(2 * pause, RECONNECT_MAX)
                continue
            if pause > RECONNECT_FIRST:
                print(f"following {cache.SIGNAL_STREAM} again", file=sys.stderr, flush=True)
                pause = RECONNECT_FIRST
    except KeyboardInterrupt:
        try:
            cache.leave(client, args.group, consumer)
        except (RedisConnectionError, RedisTimeoutError):
            pass  # a consumer left listed holds nothing, or holds what another member will claim


def _signal_line(s: dict) -> str:
    return (
        f"{s['session']}  {s['a']}/{s['b']}  {s['moved']} moved  z {s['z']:+.2f}  r {s['coefficient']:.2f}  "
        f"{s['a']} {s['close_a']:.2f} ({s['return_a']:+.2%})  {s['b']} {s['close_b']:.2f} ({s['return_b']:+.2%})"
        f"\n    {s['trade']}"
    )


def cmd_replay(args, settings: Settings) -> int:
    """Replay real sessions one at a time through Airflow (its REST API on AIRFLOW__API__PORT must answer)."""
    from axiom import replay
    from axiom_airflow.rest import AirflowRest  # the one command that asks Airflow to run DAGs

    params = replay.ReplayParams.parse(
        {"first": args.first, "last": args.last, "source": args.source, "symbols": args.symbols,
         "every_seconds": replay.parse_every(args.every), "history_from": args.history_from,
         "attempts": args.attempts}
    )  # fmt: skip
    airflow = AirflowRest()
    try:
        with connections.postgres() as pg:
            summary = replay.replay(pg, connections.redis(), params, airflow, say=lambda line: print(line, flush=True))
    except replay.ReplayFailed as failed:
        print(f"axiom: the replay stopped: {failed}", file=sys.stderr)
        return 1
    finally:
        airflow.close()
    c = summary["comparison"]
    return 0 if not (c["missing"] or c["extra"] or c["doubled"] or c["unstreamed"]) else 1


def cmd_evaluate(args, settings: Settings) -> None:
    """Walk-forward evaluation of the buy verdicts (as a factor) and of divergences (as pairs trades); the tables,
    and one chart per evaluation."""
    params = evaluation.EvaluationParams.parse(
        {"start": args.start, "end": args.end, "horizon": args.horizon, "cost_bp": args.cost_bp}
    )
    with connections.postgres() as pg:
        verdicts = evaluation.evaluate_buy(pg, params)
        spreads = evaluation.evaluate_divergences(pg, params)
    print(evaluation.headline(verdicts, spreads))
    if args.charts:
        for path in evaluation.charts(verdicts, spreads, args.charts):
            print(f"chart: {path}")


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
    question.add_argument("question", choices=list(QUESTIONS))
    about = "; ".join(f"{q}: {m.SUBJECT.description}" for q, m in QUESTIONS.items() if m.SUBJECT)
    question.add_argument("subject", nargs="?", default=None, help=f"what the question is about ({about})")
    question.add_argument("--as-of", default=None, help="YYYY-MM-DD; default: the ledger's newest session")
    question.add_argument("--event", dest="subject", help="the subject of cascade, spelt out (--event 'hike 50bp')")
    question.add_argument("--json", action="store_true", help="the answer as JSON")
    question.add_argument("--no-cache", action="store_true", help="recompute, and keep nothing")
    question.set_defaults(run=cmd_ask)
    sig = sub.add_parser("signals", help="divergence alerts from the signal stream")
    sig.add_argument("--follow", action="store_true", help="read as a consumer group member and wait for more")
    sig.add_argument("--group", default="axiom-cli")
    sig.add_argument("--consumer", default=None, help="the member's name (default: host-PID, one per process)")
    sig.add_argument("--count", type=positive_int, default=10)
    sig.set_defaults(run=cmd_signals)
    rep = sub.add_parser("replay", help="release real sessions one at a time through Airflow, as a live market")
    rep.add_argument("--from", dest="first", required=True, help="first session to release, YYYY-MM-DD")
    rep.add_argument("--to", dest="last", required=True, help="last session to release, YYYY-MM-DD")
    rep.add_argument("--every", default="15s", help="one session per this long (15s, 2m; 0: as fast as it flows)")
    rep.add_argument("--source", default="offline", help="offline (the real history) or synthetic (load tests)")
    rep.add_argument("--symbols", default=None, help="comma-separated tickers (default: the source's universe)")
    rep.add_argument("--history-from", default=None, help="backfill the history before --from from this day "
                                                          "(default: all the source has), YYYY-MM-DD")  # fmt: skip
    rep.add_argument("--attempts", type=positive_int, default=3, help="runs of a failing session before it stops")
    rep.set_defaults(run=cmd_replay)
    ev = sub.add_parser("evaluate", help="walk-forward evaluation of the buy verdicts and divergences")
    ev.add_argument("--start", default="2005-01-01", help="YYYY-MM-DD")
    ev.add_argument("--end", default="2022-12-31", help="YYYY-MM-DD")
    ev.add_argument("--horizon", type=positive_int, default=20, help="sessions after each date")
    ev.add_argument("--cost-bp", type=float, default=10.0, help="trading cost per leg per side, basis points")
    ev.add_argument("--charts", default=None, help="write one chart (PNG) per evaluation into this folder")
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
