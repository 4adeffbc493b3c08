"""Benchmark: how Pipeline 1, the correlation matrices and the insights' ledger reads grow with symbols.

On the synthetic universe (``python -m axiom synth``; written here with seed 7 when missing), for
each size (default 20, 125, 250 and 500 symbols x 10 years) it empties the four stores and runs the
price ingestion steps as the DAG's tasks do (the same domain functions, the stores from
``axiom.connections``), plus the company fundamentals load the insights need. Per step: wall time
and this process's peak RSS during the step (Linux VmHWM, reset before each step). Then, apart:

* the correlation matrix of every month-end (window 30) beside a bare ``np.corrcoef`` over the same
  arrays (quadratic in symbols by nature), best CPU seconds of seven interleaved runs;
* the ledger statements "is X a buy?" and the sector returns issue, p50 over repeated calls;
* at the largest size, the price-pattern vector step beside a raw ``collection.add`` of the same
  vectors into a scratch collection configured like ``price_patterns``.

It prints one table with the growth factor per doubling (goal <= 2.2x), and EXPLAIN ANALYZE of the
ledger statements at the largest size. It WIPES the stores it is pointed at (``--wipe`` says you
mean it) and leaves the largest synthetic universe loaded.

    scripts/bench.sh scale --wipe [--sizes 20,125,250,500] [--calls 25]   (on the tests' own stores)
"""

from __future__ import annotations

import argparse
import itertools
import logging
import re
import resource
import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from axiom import connections, index, schema
from axiom.analytics.correlation import correlations_at, month_ends
from axiom.analytics.patterns import SPACE
from axiom.analytics.sectors import HORIZONS
from axiom.config import Settings
from axiom.insights import buy, rotation
from axiom.insights.common import MIN_HISTORY
from axiom.pipelines import companies, prices
from axiom.pipelines.correlations import load_returns
from axiom.sources import synthetic
from axiom.stores import ledger
from axiom.stores.ledger.prices import CLOSES_SQL, LAST_SESSIONS_SQL, SESSION_SPAN_SQL, SYMBOLS_SQL, utc_midnight

WINDOW = 30
AS_OF = date(2022, 6, 15)
SCRATCH = "bench_raw_patterns"


def _vm(field: str) -> int:
    """A /proc/self/status memory figure in MiB (0 where /proc is absent)."""
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return 0
    found = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
    return int(found.group(1)) // 1024 if found else 0


def _reset_peak() -> bool:
    """Reset this process's peak RSS to its current RSS (Linux >= 4.0); False where that is not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def measured(fn, *args, **kwargs):
    """(result, seconds, peak RSS MiB during the call)."""
    resettable = _reset_peak()
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    seconds = time.perf_counter() - start
    peak = _vm("VmHWM") if resettable else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    return result, seconds, peak


def pipeline(pg, rds, neo, chroma, symbols: list[str], landing: Path, settings: Settings) -> tuple[dict, dict]:
    """Pipeline 1's steps over ``symbols`` from empty stores: {step: (seconds, peak MiB)} and counts."""
    steps = {}

    def step(name, fn, *args, **kwargs):
        result, seconds, peak = measured(fn, *args, **kwargs)
        steps[name] = (seconds, peak)
        return result

    params = prices.IngestParams(provider="synthetic", symbols=symbols)
    run_id = step("fetch (synthetic -> landing)", prices.fetch, pg, params, landing_dir=landing)
    bars = step("validate", prices.validate, pg, run_id)["accepted"]
    step("postgres: load bars", prices.load, pg, run_id)
    step(
        "redis: latest prices", prices.cache_latest, pg, run_id, redis_client=rds, ttl_seconds=settings.latest_price_ttl
    )
    step("neo4j: Stock nodes", prices.graph_stocks, pg, run_id, driver=neo)
    patterns = step(
        "chroma: price patterns",
        prices.vectorise_patterns,
        pg,
        run_id,
        chroma_client=chroma,
        window=settings.pattern_window,
    )
    fundamentals = companies.CompanyParams(provider="synthetic", symbols=symbols)
    step("postgres: company fundamentals", companies.load_fundamentals, pg, fundamentals)
    pg.execute("VACUUM ANALYZE price_bar")  # what autovacuum does after a bulk load, before readers arrive
    return steps, {"bars": bars, "vectors": patterns}


def correlation(pg, symbols: list[str]) -> dict:
    """Every month-end's matrix as the pipeline computes it, beside bare np.corrcoef over the same arrays."""
    (returns, read_s, read_peak) = measured(load_returns, pg, symbols, None, None, WINDOW)
    dates = month_ends(returns.index)
    values = returns.to_numpy(dtype=float)
    ends = returns.index.searchsorted(dates, side="right")
    _, _, peak = measured(correlations_at, returns, dates, WINDOW)
    ours, bare = [], []
    for _ in range(7):  # interleaved, CPU seconds of this process: two shared cores make wall time noisy
        start = time.process_time()
        correlations_at(returns, dates, WINDOW)
        ours.append(time.process_time() - start)
        start = time.process_time()
        [np.corrcoef(values[max(0, e - WINDOW) : e], rowvar=False) for e in ends]
        bare.append(time.process_time() - start)
    return {"matrices": len(dates), "read": (read_s, read_peak), "ours": (min(ours), peak), "bare": min(bare)}


def ledger_statements(pg, symbol: str) -> dict[str, tuple[str, object]]:
    """The statements one "is X a buy?" answer and one sector-returns read issue, with their parameters."""
    universe = ledger.prices.symbols(pg)
    sectors = sorted(c.symbol for c in ledger.companies.latest_companies(pg))
    until = (utc_midnight(AS_OF + timedelta(days=1)),) * 2
    buy_since = (utc_midnight(AS_OF - timedelta(days=2 * (MIN_HISTORY + buy.CORRELATION_SESSIONS) + 30)),) * 2
    sector_since = (utc_midnight(AS_OF - timedelta(days=2 * max(HORIZONS) + 30)),) * 2
    return {
        "buy: session span of X": (SESSION_SPAN_SQL, (symbol, symbol)),
        "buy: last 61 sessions of X": (LAST_SESSIONS_SQL, (until[0], symbol, symbol, MIN_HISTORY)),
        "buy: X's closes, 14 days": (
            CLOSES_SQL,
            ([symbol], "1d", *(utc_midnight(AS_OF - timedelta(days=14)),) * 2, *until),
        ),
        "buy: the symbol list": (SYMBOLS_SQL, {"interval": "1d"}),
        "buy: universe closes, 272 days": (CLOSES_SQL, (universe, "1d", *buy_since, *until)),
        "sectors: session span": (SESSION_SPAN_SQL, (None, None)),
        "sectors: members' closes, 150 days": (CLOSES_SQL, (sectors, "1d", *sector_since, *until)),
        "sectors: last 21 sessions": (LAST_SESSIONS_SQL, (until[0], None, None, rotation.HORIZON + 1)),
    }


def p50_ms(pg, statements: dict, calls: int) -> dict[str, float]:
    out = {}
    for name, (sql, params) in statements.items():
        times = []
        for _ in range(calls):
            start = time.perf_counter()
            pg.execute(sql, params).fetchall()
            times.append((time.perf_counter() - start) * 1000)
        out[name] = statistics.median(times)
    return out


def explain(pg, statements: dict) -> list[str]:
    lines = []
    for name, (sql, params) in statements.items():
        plan = [r[0] for r in pg.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params).fetchall()]
        nodes = [plan[0]] + [p.strip() for p in plan[1:] if "Scan" in p]
        lines.append(f"  {name}: {plan[-1].strip()}")
        lines.extend(f"      {re.sub(r'ANY [(].*?[)]', 'ANY (...)', n)[:150]}" for n in nodes[:3])
    return lines


def chroma_versus_raw(pg, chroma, symbols: list[str], window: int) -> dict:
    """Axiom's price-pattern step into an empty collection vs a raw add of the same vectors."""
    records, build_s, _ = measured(index.pattern_records, pg, window=window, symbols=symbols)
    if SCRATCH in [c.name for c in chroma.list_collections()]:
        chroma.delete_collection(SCRATCH)
    scratch = chroma.create_collection(
        SCRATCH,
        embedding_function=None,
        configuration={"hnsw": {"space": SPACE, "ef_search": 400, "ef_construction": 200}},
    )
    batch = 4000
    start = time.perf_counter()
    for i in range(0, len(records), batch):
        scratch.add(
            ids=records.ids[i : i + batch],
            embeddings=records.embeddings[i : i + batch],
            metadatas=records.metadatas[i : i + batch],
        )
    raw_s = time.perf_counter() - start
    chroma.delete_collection(SCRATCH)
    return {"vectors": len(records), "build": build_s, "raw": raw_s}


def growth(values: list[float]) -> str:
    factors = [b / a if a else float("nan") for a, b in itertools.pairwise(values)]
    return "  ".join(f"{f:5.2f}x" for f in factors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--wipe", action="store_true", help="required: the benchmark empties the stores first")
    parser.add_argument("--sizes", default="20,125,250,500", help="symbol counts, smallest first")
    parser.add_argument("--calls", type=int, default=25, help="repetitions of each ledger statement")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if not args.wipe:
        raise SystemExit("benchmarks/scale.py empties all four stores: run it with --wipe on stores you can lose")
    logging.basicConfig(level=logging.WARNING)
    settings = Settings.from_env()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    try:
        known = synthetic.manifest(settings.synthetic_dir)
    except FileNotFoundError:
        known = {}
    if len(known.get("symbols", ())) < sizes[-1] or known.get("seed") != args.seed:
        synthetic.write(synthetic.generate(sizes[-1], 10, args.seed), settings.synthetic_dir)
        known = synthetic.manifest(settings.synthetic_dir)
    universe = known["symbols"]
    print(f"synthetic universe: {len(universe)} symbols, {known['first_session']} to {known['last_session']}, "
          f"seed {known['seed']} (simulated, not market data)")  # fmt: skip

    pg, rds, neo, chroma = connections.postgres(), connections.redis(), connections.neo4j(), connections.chroma()
    schema.migrate_postgres(pg)
    schema.migrate_neo4j(neo)
    landing = Path(tempfile.mkdtemp(prefix="axiom-scale-"))
    results = {}
    for n in sizes:
        connections.empty_test_stores(pg, rds, neo, chroma)
        symbols = universe[:n]
        steps, counts = pipeline(pg, rds, neo, chroma, symbols, landing, settings)
        corr = correlation(pg, symbols)
        statements = ledger_statements(pg, symbols[0])
        queries = p50_ms(pg, statements, args.calls)
        results[n] = {"steps": steps, "counts": counts, "corr": corr, "queries": queries}
        print(f"  {n} symbols: {counts['bars']:,} bars, {counts['vectors']:,} pattern vectors, "
              f"{sum(s for s, _ in steps.values()):.1f} s")  # fmt: skip
    largest = sizes[-1]
    plans = explain(pg, ledger_statements(pg, universe[0]))
    chroma_cmp = chroma_versus_raw(pg, chroma, universe[:largest], settings.pattern_window)

    scaled = [n for n in sizes if n >= 125] or sizes
    head = "".join(f"{str(n) + ' sym':>18}" for n in sizes)
    print(f"\nPipeline 1 per step: wall seconds / peak RSS MiB{'':<8}growth per doubling {scaled}")
    print(f"{'step':<34}{head}   growth")
    for step in results[sizes[0]]["steps"]:
        cells = "".join(f"{results[n]['steps'][step][0]:>10.2f} s {results[n]['steps'][step][1]:>4}M" for n in sizes)
        print(f"{step:<34}{cells}   {growth([results[n]['steps'][step][0] for n in scaled])}")
    totals = [sum(s for s, _ in results[n]["steps"].values()) for n in sizes]
    print(f"{'total':<34}{''.join(f'{t:>10.2f} s      ' for t in totals)}   "
          f"{growth([t for n, t in zip(sizes, totals, strict=True) if n in scaled])}")  # fmt: skip

    print(f"\ncorrelations: every month-end matrix, window {WINDOW} (quadratic in symbols by nature)")
    for n in sizes:
        c = results[n]["corr"]
        ours, peak = c["ours"]
        print(f"  {n:>4} symbols: {c['matrices']} matrices  axiom {ours:.3f} s (peak {peak}M)  bare np.corrcoef "
              f"{c['bare']:.3f} s  ratio {ours / c['bare']:.2f}x  (ledger read {c['read'][0]:.2f} s)")  # fmt: skip
    print(f"  growth per doubling {scaled}: {growth([results[n]['corr']['ours'][0] for n in scaled])}")

    print(f"\nledger statements of the insights, p50 of {args.calls} calls (ms), as of {AS_OF}")
    labels = "".join(f"{str(n) + ' sym':>10}" for n in sizes)
    print(f"{'statement':<38}{labels}   {largest} vs {sizes[0]}")
    for name in results[sizes[0]]["queries"]:
        row = [results[n]["queries"][name] for n in sizes]
        print(f"{name:<38}{''.join(f'{v:>10.2f}' for v in row)}   {row[-1] / row[0]:>6.1f}x")
    for prefix in ("buy", "sectors"):
        row = [sum(v for k, v in results[n]["queries"].items() if k.startswith(prefix)) for n in sizes]
        print(f"{prefix + ': all statements':<38}{''.join(f'{v:>10.2f}' for v in row)}   {row[-1] / row[0]:>6.1f}x")
    print(f"\nEXPLAIN ANALYZE at {largest} symbols:")
    print("\n".join(plans))

    step_s = results[largest]["steps"]["chroma: price patterns"][0]
    v = chroma_cmp["vectors"]
    print(f"\nchroma at {largest} symbols: {v:,} price-pattern vectors")
    print(f"  axiom step (ledger read, vectors, digests, upsert): {step_s:.1f} s = {v / step_s:,.0f}/s")
    print(f"  of which the write (step minus building the records, {chroma_cmp['build']:.1f} s): "
          f"{step_s - chroma_cmp['build']:.1f} s = {v / (step_s - chroma_cmp['build']):,.0f}/s")  # fmt: skip
    print(f"  raw collection.add of the same vectors: {chroma_cmp['raw']:.1f} s = {v / chroma_cmp['raw']:,.0f}/s")
    print(f"  axiom step at {chroma_cmp['raw'] / step_s:.2f}x the raw throughput; its write at "
          f"{chroma_cmp['raw'] / (step_s - chroma_cmp['build']):.2f}x")  # fmt: skip
    print(
        f"\nprocess peak RSS over the whole benchmark: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MiB"
    )
    pg.close()
    neo.close()


if __name__ == "__main__":
    main()
