"""Benchmark: "is X a buy?" end to end, beside the raw store round trips of the same queries.

For ``--calls`` answers (symbols and as-of dates drawn with a fixed seed, the insight cache off) it
times ``axiom.insights.ask`` and, in the same run, replays every query one answer makes straight
against each store's client (Redis GET, the PostgreSQL statements, the Cypher reads, the Chroma
query) with no Axiom code around them. It prints p50/p99 of both, per store, and the ratio of the
p50s (target: at most 1.5x). Needs the stores filled (`make run`).

    make bench        (on the tests' own stores; one script: scripts/bench.sh insights [--calls 200])
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import time
from datetime import date, timedelta

from axiom import connections
from axiom.analysts.judge import judge_from_env
from axiom.analytics.patterns import pattern_vector
from axiom.calendar import epoch_day
from axiom.insights import buy
from axiom.insights.ask import ask
from axiom.insights.common import MIN_HISTORY, Stores
from axiom.stores import cache, graph, ledger, vectors
from axiom.stores.ledger.prices import utc_midnight


def ms(fn):
    started = time.perf_counter()
    result = fn()
    return result, (time.perf_counter() - started) * 1000


def raw_round_trips(stores: Stores, symbol: str, as_of) -> dict[str, float]:
    """Every query one buy answer makes, issued straight to the clients: milliseconds per store."""
    pg, spent = stores.conn, {"redis": 0.0, "postgres": 0.0, "neo4j": 0.0, "chroma": 0.0}

    def sql(statement, params):
        _, t = ms(lambda: pg.execute(statement, params).fetchall())
        spent["postgres"] += t

    def cypher(statement, **params):
        _, t = ms(lambda: graph.read(stores.driver, statement, **params))
        spent["neo4j"] += t

    sql(ledger.prices.SESSION_SPAN_SQL, (symbol, symbol))  # resolve the as-of
    until = utc_midnight(as_of + timedelta(days=1))
    sql(ledger.prices.SYMBOL_SESSIONS_SQL, {"until": until, "symbol": symbol, "count": MIN_HISTORY})
    _, t = ms(lambda: stores.redis_client.get(cache.company_metadata_key(symbol)))
    spent["redis"] += t
    sql(ledger.prices.SESSION_SPAN_SQL, (symbol, symbol))  # is the as-of the newest session?
    sql(ledger.prices.SESSION_SPAN_SQL, (symbol, symbol))  # the quote: Redis only for the newest session
    quote_bounds = (utc_midnight(as_of - timedelta(days=14)),) * 2 + (utc_midnight(as_of + timedelta(days=1)),) * 2
    sql(ledger.prices.CLOSES_SQL, ([symbol], "1d", *quote_bounds))
    competitors, t = ms(lambda: graph.read(stores.driver, graph.COMPETITORS, symbol=symbol))
    spent["neo4j"] += t
    since = as_of - timedelta(days=2 * MIN_HISTORY + 30)
    bounds = (utc_midnight(since),) * 2 + (until,) * 2
    sql(ledger.prices.CLOSES_SQL, ([symbol, *(c["symbol"] for c in competitors)], "1d", *bounds))
    pairs = {"window": buy.CORRELATION_WINDOW, "as_of": as_of, "symbol": symbol, "limit": buy.CORRELATED}
    sql(ledger.correlations.PAIRS_OF_SQL, pairs)
    cypher(graph.EVENTS_BETWEEN, symbol=symbol, since=(as_of - timedelta(days=10)).isoformat(), until=as_of.isoformat())
    history, t = ms(lambda: ledger.prices.closes(pg, [symbol], since=as_of - timedelta(days=120), until=as_of))
    spent["postgres"] += t
    query = pattern_vector(history["close"].to_numpy(dtype=float), 30)
    sql(ledger.prices.SYMBOL_SESSIONS_SQL, {"until": until, "symbol": symbol, "count": buy.HORIZON + 1})
    collection = vectors.price_patterns(stores.chroma_client)
    result, t = ms(
        lambda: collection.query(
            query_embeddings=[query.tolist()],
            n_results=2 * buy.ANALOGUES,
            where={"$and": [{"window": 30}, {"epoch_day": {"$lte": epoch_day(as_of - timedelta(days=30))}}]},
            include=["metadatas", "distances"],
        )
    )
    spent["chroma"] += t
    starts = [(m["symbol"], date.fromisoformat(m["as_of"])) for m in result["metadatas"][0]]
    _, t = ms(lambda: ledger.prices.forward_closes(pg, starts, buy.HORIZON))
    spent["postgres"] += t
    sql(ledger.judgements.LOOKUP_SQL, (["0" * 64],))  # the judge's cache
    return spent


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    pg, driver = connections.postgres(), connections.neo4j()
    stores = Stores(pg, connections.redis(), driver, connections.chroma())
    judge = judge_from_env(pg)
    symbols = ledger.prices.symbols(pg)
    if not symbols:
        raise SystemExit("the ledger is empty: run `make run` first")
    sessions = ledger.prices.last_sessions(pg, ledger.prices.session_span(pg)[1], 1500)[MIN_HISTORY + 60 :]
    rng = random.Random(args.seed)
    asks = [(rng.choice(symbols), rng.choice(sessions)) for _ in range(args.calls)]

    ask(stores, "buy", judge=judge, subject=asks[0][0], as_of=asks[0][1], use_cache=False)  # warm clients
    ours, raw, per_store = [], [], {"redis": [], "postgres": [], "neo4j": [], "chroma": []}
    for symbol, as_of in asks:
        insight, t = ms(lambda s=symbol, d=as_of: ask(stores, "buy", judge=judge, subject=s, as_of=d, use_cache=False))
        ours.append(t)
        for store, spent in insight.latency_by_store().items():
            per_store[store].append(spent)
        raw.append(sum(raw_round_trips(stores, symbol, as_of).values()))

    p50, p99, raw50, raw99 = (percentile(v, q) for v in (ours, raw) for q in (0.5, 0.99))
    print(f"\n'is X a buy?' over {args.calls} calls (random symbols and as-of dates, insight cache off)")
    print(f"  axiom ask:               p50 {p50:7.1f} ms   p99 {p99:7.1f} ms   mean {statistics.mean(ours):7.1f} ms")
    print(f"  raw round trips (same):  p50 {raw50:7.1f} ms   p99 {raw99:7.1f} ms")
    inside = "  ".join(f"{s} {percentile(v, 0.5):.1f} ms" for s, v in per_store.items())
    print(f"  per store inside ask (p50): {inside}")
    print(f"  ratio of p50s: {p50 / raw50:.2f}x   (target: at most 1.5x; the seed claims ~210 ms across four stores)")
    pg.close()
    driver.close()


if __name__ == "__main__":
    main()
