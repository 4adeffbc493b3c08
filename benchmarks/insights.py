"""Benchmark: every question end to end, beside the raw round trips of its minimal queries.

For each question ("is X a buy?", rotation, cascade, like) it times ``--calls`` fresh answers through
``axiom.insights.ask.ask`` (subjects and as-of sessions drawn with a fixed seed from the ledger's last
1,500 sessions; rule-based analyst; insight cache off) and, interleaved with them in the same run, the
minimal queries each answer needs issued straight to each client with no Axiom code around them: the
Redis GETs, the PostgreSQL statements, the Cypher reads, and Chroma's *unfiltered* nearest-neighbour query
of the same vector (the filtered query the answer avoids would hide its cost). Each answer needs each
read once: the as-of session (span and history of the symbol), the data version (the pipelines' newest
runs, the newest evaluation), the question's own reads ("is X a buy?": its track record too), the analyst
cache lookup; a candidate's price comes from the closes already read unless the as-of is the newest
session (then one MGET). The query vectors are computed outside the timings.

It prints per question the p50 and p99 of both, the p50 per store of each, and the ratio of the p50s
(goal: at most 1.5x). The raw replay is the sum of its round trips, one after another; an answer begins the
reads that need nothing read before them at once (``Recorder.begin``), so its reads can overlap, and its
p50 per store (the sum of its reads' own latencies) can exceed the store's share of its wall time.
``benchmarks/scale.py`` prints the same table at each universe size, with the largest size's p50 beside the
smallest's (goal: within 1.3x).

    scripts/bench.sh insights [--calls 30]   (on the tests' stores as they are: scale.py leaves its largest
                                             universe there; `make bench` runs it at every size)
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock

import pandas as pd

from axiom import connections
from axiom.analysts.judge import judge_from_env
from axiom.analytics.patterns import pattern_vector
from axiom.analytics.sectors import profile
from axiom.insights import buy, like, rotation
from axiom.insights.answer import STORES
from axiom.insights.ask import QUESTIONS, ask
from axiom.insights.common import Request, Stores
from axiom.reads import MIN_HISTORY
from axiom.stores import cache, graph, ledger, vectors
from axiom.stores.ledger.prices import utc_midnight

GOAL = 1.5
SESSIONS = 1500  # the as-of sessions are drawn from the ledger's last 1,500


class Raw:
    """Times each read issued straight to a client; milliseconds per store."""

    def __init__(self, stores: Stores) -> None:
        self.stores = stores
        self.spent = dict.fromkeys(STORES, 0.0)

    def _timed(self, store: str, fn):
        started = time.perf_counter()
        result = fn()
        self.spent[store] += (time.perf_counter() - started) * 1000
        return result

    def sql(self, statement: str, params):
        return self._timed("postgres", lambda: self.stores.conn.execute(statement, params).fetchall())

    def cypher(self, statement: str, **params) -> list[dict]:
        def run():
            with self.stores.driver.session() as session:
                return session.run(statement, params).data()

        return self._timed("neo4j", run)

    def redis(self, *keys: str):
        client = self.stores.redis_client
        return self._timed("redis", lambda: client.get(keys[0]) if len(keys) == 1 else client.mget(keys))

    def chroma(self, fn):
        return self._timed("chroma", fn)

    def pg(self, fn):
        """A ledger function that is one statement and nothing else (its SQL is not a constant of its module)."""
        return self._timed("postgres", lambda: fn(self.stores.conn))

    def session(self, request: Request, symbol: str | None) -> None:
        """The reads every answer starts with: the as-of session (the span gives the newest session, then
        the history before the as-of) and the data version (each pipeline's newest run, the newest evaluation)."""
        self.sql(ledger.prices.SESSION_SPAN_SQL, (symbol, symbol))
        until = utc_midnight(request.as_of + timedelta(days=1))
        statement = ledger.prices.LAST_SESSIONS_SQL if symbol is None else ledger.prices.SYMBOL_SESSIONS_SQL
        self.sql(statement, {"until": until, "symbol": symbol, "count": MIN_HISTORY})
        self.pg(ledger.runs.newest_runs)
        self.pg(ledger.signals.evaluated_at)

    def judge(self) -> None:
        self.sql(ledger.judgements.LOOKUP_SQL, (["0" * 64],))


def closes_sql(raw: Raw, symbols: list[str], since: date, until: date) -> pd.DataFrame:
    """The closes statement, timed; then (not timed) the same closes as a table for the replay's next reads."""
    raw.sql(
        ledger.prices.CLOSE_TABLE_SQL,
        (symbols, "1d", *(utc_midnight(since),) * 2, *(utc_midnight(until + timedelta(days=1)),) * 2),
    )
    return ledger.prices.close_table(raw.stores.conn, symbols, since=since, until=until)


def raw_buy(raw: Raw, request: Request, collections: dict) -> None:
    symbol, as_of = request.subject, request.as_of
    raw.session(request, symbol)
    raw.redis(cache.company_metadata_key(symbol))
    closes = closes_sql(raw, [symbol], request.since, as_of)
    peers = raw.cypher(graph.COMPETITORS, symbol=symbol)
    others = sorted({p["symbol"] for p in peers} - {symbol})
    if others:
        closes_sql(raw, others, request.since, as_of)
    if request.newest == as_of:
        raw.redis(cache.latest_price_key(symbol))
    window_start = closes.index[-buy.EVENT_SESSIONS - 1].date()
    raw.cypher(graph.EVENTS_BETWEEN, symbol=symbol, since=window_start.isoformat(), until=as_of.isoformat())
    pairs = {"window": buy.CORRELATION_WINDOW, "as_of": as_of, "symbol": symbol, "limit": buy.CORRELATED}
    raw.sql(ledger.correlations.PAIRS_OF_SQL, pairs)
    query = pattern_vector(closes[symbol].dropna().to_numpy(dtype=float), 30)
    if query is not None:
        found = raw.chroma(lambda: collections["patterns"].query(
            query_embeddings=[query.tolist()], n_results=2 * buy.ANALOGUES, include=["metadatas", "distances"]
        ))  # fmt: skip
        starts = [(m["symbol"], date.fromisoformat(m["as_of"])) for m in found["metadatas"][0]]
        raw.pg(lambda conn: ledger.prices.forward_closes(conn, starts, buy.HORIZON))
    raw.sql(ledger.signals.TRACK_RECORD_SQL, {"kind": "buy", "as_of": as_of})
    raw.judge()


def raw_rotation(raw: Raw, request: Request, collections: dict) -> None:
    as_of = request.as_of
    raw.session(request, None)
    rows = None
    if request.newest == as_of:
        rows = raw.redis(cache.SECTOR_MOMENTUM)
    if rows is None:
        rows = raw.sql(ledger.sectors.AT_SQL, ([as_of],))
    raw.cypher(graph.ROTATION_AT, as_of=as_of.isoformat())
    until = utc_midnight(as_of + timedelta(days=1))
    raw.sql(ledger.prices.LAST_SESSIONS_SQL, {"until": until, "count": rotation.HORIZON + 1})
    table = pd.DataFrame(ledger.sectors.at(raw.stores.conn, [as_of])).set_index("sector")  # the vector: not timed
    found = raw.chroma(lambda: collections["profiles"].query(
        query_embeddings=[profile(table).tolist()], n_results=rotation.ANALOGUES, include=["metadatas", "distances"]
    ))  # fmt: skip
    ends = []
    for m in found["metadatas"][0]:
        params = {"since": utc_midnight(date.fromisoformat(m["as_of"])), "until": until, "count": rotation.HORIZON + 1}
        sessions = raw.sql(ledger.prices.NEXT_SESSIONS_SQL, params)
        ends += [sessions[-1][0].date()] if sessions else []
    raw.sql(ledger.sectors.AT_SQL, (sorted(set(ends)),))
    raw.judge()


def raw_cascade(raw: Raw, request: Request, collections: dict, embedded: dict) -> None:
    as_of, event_id = request.as_of, request.params["event_id"]
    raw.session(request, None)
    before = datetime.combine(as_of, clock(), tzinfo=UTC)
    if event_id is None:
        reached = raw.cypher(graph.SECTOR_EXPOSURE_BEFORE, until=as_of.isoformat())
    else:
        raw.sql(ledger.events.FED_DECISIONS_SQL, (before + timedelta(days=1),))  # the decision of the subject
        reached = raw.cypher(graph.CASCADE, event_id=event_id)
    hikes = [r for r in raw.sql(ledger.events.FED_DECISIONS_SQL, (before,)) if (r[3].get("change_bp") or 0) > 0]
    since = hikes[0][1].date() - timedelta(days=10) if hikes else as_of
    closes_sql(raw, sorted({r["symbol"] for r in reached}), since, as_of)
    raw.chroma(lambda: collections["events"].query(
        query_embeddings=[embedded[request.subject]], n_results=5, include=["documents", "metadatas", "distances"]
    ))  # fmt: skip
    raw.judge()


def raw_like(raw: Raw, request: Request, collections: dict) -> None:
    symbol, as_of = request.subject, request.as_of
    raw.session(request, symbol)
    own = raw.chroma(lambda: collections["companies"].get(ids=[f"company:{symbol}"], include=["embeddings"]))
    found = raw.chroma(lambda: collections["companies"].query(
        query_embeddings=[own["embeddings"][0].tolist()], n_results=like.NEIGHBOURS + 1,
        include=["documents", "metadatas", "distances"],
    ))  # fmt: skip
    competitors = raw.cypher(graph.COMPETITORS, symbol=symbol)
    sector = raw.cypher(graph.SECTOR_OF, symbol=symbol)
    described = {m["symbol"] for m in found["metadatas"][0]}
    candidates = sorted((described | {c["symbol"] for c in competitors} | set(sector[0]["peers"] if sector else ()))
                        - {symbol})  # fmt: skip
    closes_sql(raw, [symbol, *candidates], request.since, as_of)
    if request.newest == as_of:  # the candidates' cached latest prices; otherwise the closes hold them
        raw.redis(*(cache.latest_price_key(c) for c in candidates))
    raw.judge()


@dataclass
class Timings:
    """One question's answers and raw replays, in milliseconds."""

    ours: list[float] = field(default_factory=list)
    raw: list[float] = field(default_factory=list)
    ours_by_store: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STORES})
    raw_by_store: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in STORES})

    def p50(self, which: str) -> float:
        return statistics.median(getattr(self, which))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def asks(conn, calls: int, seed: int) -> dict[str, list[tuple[str | None, date]]]:
    """Per question, ``calls`` (subject, as-of) drawn with ``seed`` from the ledger's last ``SESSIONS`` sessions."""
    symbols = ledger.prices.symbols(conn)
    if not symbols:
        raise SystemExit("the ledger is empty: fill the stores first (`make run`, or benchmarks/scale.py)")
    newest = ledger.prices.session_span(conn)[1]
    sessions = ledger.prices.last_sessions(conn, newest, SESSIONS + MIN_HISTORY + 60)[MIN_HISTORY + 60 :]
    decided = [d["occurred_at"].astimezone(UTC).date() for d in ledger.events.fed_decisions(conn, utc_midnight(newest))]
    rng = random.Random(seed)

    def decision(as_of: date) -> str | None:
        """Half the time the latest decision on or before the as-of (when the ledger holds one), else a hike."""
        return None if rng.random() < 0.5 and decided and decided[0] <= as_of else "hike 50bp"

    return {
        "buy": [(rng.choice(symbols), rng.choice(sessions)) for _ in range(calls)],
        "rotation": [(None, rng.choice(sessions)) for _ in range(calls)],
        "cascade": [(decision(d), d) for d in (rng.choice(sessions) for _ in range(calls))],
        "like": [(rng.choice(symbols), rng.choice(sessions)) for _ in range(calls)],
    }


def measure(stores: Stores, calls: int, seed: int = 7) -> dict[str, Timings]:
    """Every question ``calls`` times through ``ask``, each followed by the raw replay of its minimal queries."""
    judge = judge_from_env(stores.conn)
    client = stores.chroma_client
    collections = {"patterns": vectors.price_patterns(client), "profiles": vectors.sector_profiles(client),
                   "events": vectors.market_events(client), "companies": vectors.companies(client)}  # fmt: skip
    embedded: dict[str, list[float]] = {}
    out = {}
    for question, drawn in asks(stores.conn, calls, seed).items():
        module = QUESTIONS[question]
        timings = Timings()
        for i, (subject, as_of) in enumerate([drawn[0], *drawn]):  # the first is a warm-up, not counted
            request = module.resolve(stores.conn, subject, as_of, {})
            if question == "cascade" and request.subject not in embedded:
                embedded[request.subject] = vectors.text_embedding_function()([request.subject])[0].tolist()
            started = time.perf_counter()
            insight = ask(stores, question, judge=judge, subject=subject, as_of=as_of, use_cache=False)
            spent = (time.perf_counter() - started) * 1000
            raw = Raw(stores)
            replay = {"buy": raw_buy, "rotation": raw_rotation, "like": raw_like}.get(question)
            if replay is None:
                raw_cascade(raw, request, collections, embedded)
            else:
                replay(raw, request, collections)
            if i == 0:
                continue
            timings.ours.append(spent)
            timings.raw.append(sum(raw.spent.values()))
            for store, ms in insight.latency_by_store().items():
                timings.ours_by_store[store].append(ms)
            for store, ms in raw.spent.items():
                timings.raw_by_store[store].append(ms)
        out[question] = timings
    return out


def print_table(rows: list[tuple[str, dict[str, Timings]]], calls: int) -> None:
    """One line per universe and question; then, per question, the last universe's p50 beside each other's."""
    print(f"\nquestions: p50/p99 of {calls} fresh answers (ask, insight cache off) beside the raw round trips of "
          f"their minimal queries\nissued straight to each client (Chroma: the unfiltered query), ms; "
          f"goal: ratio of the p50s <= {GOAL}x ('!' above it)")  # fmt: skip
    stores = "".join(f"{s[:5]:>7}" for s in STORES)
    print(f"{'universe':<14}{'question':<10}{'ask p50':>8}{'p99':>7}{'raw p50':>9}{'p99':>7}{'ratio':>8}"
          f"   p50 in ask:{stores}   p50 raw:{stores}")  # fmt: skip
    for label, results in rows:
        for question, t in results.items():
            ours = "".join(f"{statistics.median(t.ours_by_store[s]):7.1f}" for s in STORES)
            raw = "".join(f"{statistics.median(t.raw_by_store[s]):7.1f}" for s in STORES)
            ratio = t.p50("ours") / t.p50("raw")
            print(f"{label:<14}{question:<10}{t.p50('ours'):8.1f}{percentile(t.ours, 0.99):7.1f}"
                  f"{t.p50('raw'):9.1f}{percentile(t.raw, 0.99):7.1f}{ratio:7.2f}x{' ' if ratio <= GOAL else '!'}"
                  f"  {'':>11}{ours}  {'':>9}{raw}")  # fmt: skip
    label, last = rows[-1]
    for other, earlier in rows[:-1]:
        print(f"\n{label} beside {other}: p50 of ask (goal: within 1.3x)")
        for question, t in last.items():
            a, b = earlier[question].p50("ours"), t.p50("ours")
            print(f"  {question:<10}{a:8.1f} ms -> {b:8.1f} ms   {b / a:5.2f}x{' ' if b / a <= 1.3 else '!'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    pg, driver = connections.postgres(), connections.neo4j()
    stores = Stores(pg, connections.redis(), driver, connections.chroma())
    symbols = len(ledger.prices.symbols(pg))
    print_table([(f"{symbols} symbols", measure(stores, args.calls, args.seed))], args.calls)
    pg.close()
    driver.close()


if __name__ == "__main__":
    main()
