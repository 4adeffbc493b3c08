"""Benchmark: Pipeline 1 over the full offline history (20 symbols x 8,313 sessions = 166,260 bars).

Starts from an empty price ledger and price-pattern collection (like a first `make run`), times
each step, and compares the ledger load with a raw COPY of the same rows into an identical
scratch table. It leaves the stores holding the full offline history, as `make run` would.

    make bench        (on the tests' own stores; one script: scripts/bench.sh ingest [--repeat 3])
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd

from axiom import connections, index, schema
from axiom.config import Settings
from axiom.pipelines import prices
from axiom.stores import ledger, vectors


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def raw_copy_seconds(pg, bars: pd.DataFrame) -> tuple[float, float]:
    """COPY the same rows into a scratch table identical to price_bar: (with serialisation, COPY alone).

    The scratch table is a regular (WAL-logged) table like price_bar, created and dropped by
    the benchmark; a TEMP table would skip the WAL and flatter the baseline.
    """
    frame = bars.assign(source="offline", adjusted=True, run_id=0)
    columns = ledger.prices.BAR_TABLE_COLUMNS
    with pg.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS price_bar_scratch")
        cur.execute("CREATE TABLE price_bar_scratch (LIKE price_bar INCLUDING ALL)")
        try:
            with ledger.db.transaction(pg):
                start = time.perf_counter()
                data = ledger.db.copy_csv(frame, columns)
                copy_start = time.perf_counter()
                with cur.copy(f"COPY price_bar_scratch ({', '.join(columns)}) FROM STDIN (FORMAT csv)") as copy:
                    copy.write(data)
            end = time.perf_counter()
            return end - start, end - copy_start
        finally:
            cur.execute("DROP TABLE price_bar_scratch")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of the PostgreSQL comparison")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    settings = Settings.from_env()
    pg, rds, neo, chroma = connections.postgres(), connections.redis(), connections.neo4j(), connections.chroma()
    connections.require_test_stores(pg, rds, neo, chroma)  # it truncates the price ledger
    schema.migrate_postgres(pg)
    schema.migrate_neo4j(neo)
    landing = Path(tempfile.mkdtemp(prefix="axiom-bench-"))

    # a first load: the price ledger and its vectors start empty (other pipelines' data stays)
    pg.execute("TRUNCATE price_bar")
    if vectors.PRICE_PATTERNS in [c.name for c in chroma.list_collections()]:
        chroma.delete_collection(vectors.PRICE_PATTERNS)
    patterns_spec = index.spec(vectors.PRICE_PATTERNS)
    index.verify(pg, chroma, patterns_spec, window=settings.pattern_window)  # the index has seen the empty state

    params = prices.IngestParams.parse({"provider": "offline"})
    rows: list[tuple[str, int, float]] = []
    run_id, t = timed(prices.fetch, pg, params, landing_dir=landing)
    fetched = ledger.runs.get_run(pg, run_id).stats["fetched"]
    rows.append(("fetch (skfolio -> landing Parquet)", fetched, t))
    _, t = timed(prices.validate, pg, run_id)
    rows.append(("validate", fetched, t))
    accepted = pd.read_parquet(ledger.runs.scope(pg, run_id).landing / "accepted.parquet")

    # PostgreSQL: the ledger load on an empty table vs a raw COPY, repeated; medians reported
    load_s, raw_s, copy_only_s = [], [], []
    for _ in range(args.repeat):
        pg.execute("TRUNCATE price_bar")
        with_serialising, copy_only = raw_copy_seconds(pg, accepted)
        raw_s.append(with_serialising)
        copy_only_s.append(copy_only)
        first_load, t = timed(ledger.prices.load_bars, pg, accepted, run_id=run_id, source="offline", adjusted=True)
        load_s.append(t)
    ledger.runs.add_stats(pg, run_id, {"load": first_load.as_dict()})
    ledger.runs.update_scope(pg, run_id, changed=True)  # what the run's announce decides on
    _, rerun_s = timed(ledger.prices.load_bars, pg, accepted, run_id=run_id, source="offline", adjusted=True)
    n = len(accepted)
    load_med, raw_med = statistics.median(load_s), statistics.median(raw_s)
    rows.append(("postgres: load_bars, first load", n, load_med))
    rows.append(("postgres: load_bars, re-run (all unchanged)", n, rerun_s))
    rows.append(("postgres: raw COPY baseline (serialise + COPY)", n, raw_med))
    rows.append(("postgres: COPY alone (rows already serialised)", n, statistics.median(copy_only_s)))

    # the declared steps after the load, in order, as the DAG and the CLI run them
    clients = {"redis_client": rds, "driver": neo, "chroma_client": chroma}
    for step in prices.STEPS[[s.name for s in prices.STEPS].index("load") + 1 :]:
        k, t = timed(step.run, pg, run_id, **{c: clients[c] for c in step.clients}, **step.kwargs(settings))
        rows.append((f"{step.writes}: {step.name}", k, t))
    k, t = timed(prices.vectorise_patterns, pg, run_id, chroma_client=chroma, window=settings.pattern_window)
    rows.append(("chroma: re-run (digests unchanged, 0 written)", vectors.price_patterns(chroma).count(), t))
    # the semantic index after the pipeline: the pipeline is the collection's one writer, so the index verifies
    verified, t = timed(index.verify, pg, chroma, patterns_spec, window=settings.pattern_window)
    rows.append((f"index: verify after the run ({verified['upserted']} written)", verified["chroma"], t))
    full, t = timed(index.repair, pg, chroma, patterns_spec, window=settings.pattern_window)
    rows.append((f"index: full reconcile, as before ({full['upserted']} written)", full["chroma"], t))

    print(f"\n{'step':<48} {'items':>9} {'seconds':>9} {'items/s':>11}")
    for name, count, seconds in rows:
        print(f"{name:<48} {count:>9,} {seconds:>9.3f} {count / seconds if seconds else 0:>11,.0f}")
    ratio = raw_med / load_med
    print(f"\nPostgreSQL leg vs raw COPY: {n / load_med:,.0f} vs {n / raw_med:,.0f} rows/s = {ratio:.2f}x")
    print(f"PostgreSQL leg vs COPY alone: {statistics.median(copy_only_s) / load_med:.2f}x")
    print("target: at least 0.5x")
    print(
        f"(medians of {args.repeat}; load times: {', '.join(f'{s:.3f}' for s in load_s)}; "
        f"raw: {', '.join(f'{s:.3f}' for s in raw_s)})"
    )
    pg.close()
    neo.close()


if __name__ == "__main__":
    main()
