"""Benchmark: how every pipeline, the correlation matrices and the insights grow with symbols.

On the synthetic universe (``python -m axiom synth``; written here with seed 7 when missing), for
each size (default 20, 125, 250 and 500 symbols x 10 years) it empties the four stores and runs the
five pipelines in ``make run``'s order, each step called as its DAG task calls it (the same domain
function, the DAG's Params defaults, the clients the step names) in a fresh process of its own, as
Airflow runs a task (forked from a server that has Axiom imported; it opens its own connections):

* Pipeline 2, company graph (``provider=synthetic``; competitors from the rule-based analyst);
* Pipeline 1, price ingestion (``provider=synthetic``), then ``VACUUM ANALYZE price_bar`` untimed
  (what autovacuum does after a bulk load);
* Pipeline 3, market events (abnormal moves from the ledger and the FOMC decisions, k 5, window 60,
  at most 1,000 events);
* Pipeline 4, correlations (window 30, threshold 0.7, a backfill of 2022's month-ends);
* Pipeline 5, the semantic index: the first verification of every collection, which (no index state
  yet) repairs each one in full, writing only what differs.

Per step: wall time of the call and its process's peak RSS (Linux VmHWM), grouped by pipeline, with
per-store subtotals and the growth factor per doubling (goal <= 2.2x; steps above it are flagged).
Then, apart:

* the correlation matrix of every month-end (window 30) beside a bare ``np.corrcoef`` over the same
  arrays (quadratic in symbols by nature), best CPU seconds of seven interleaved runs;
* the four questions through ``axiom.insights.ask.ask`` (rule-based judge, insight cache off), each beside
  the raw round trips of its minimal queries (``benchmarks/insights.py``: subjects and as-of sessions drawn
  from the last 1,500 sessions): p50/p99, p50 per store, the ratio (goal <= 1.5x), and the largest size's
  p50 beside each smaller one's (goal: within 1.3x); with ``--real``, first on the 20 real symbols of the
  bundled history (the five pipelines with the offline provider, on emptied stores); at the largest size,
  every statement "is X a buy?" and rotation issue with its plan (``auto_explain`` with ANALYZE on the
  benchmark's own session);
* at the largest size, the price-pattern vector step beside a raw ``collection.add`` of the same
  vectors into a scratch collection configured like ``price_patterns``.

It WIPES the stores it is pointed at (``--wipe`` says you mean it) and leaves the largest universe
loaded. Progress goes to stderr, the tables to stdout.

    scripts/bench.sh scale --wipe [--real] [--sizes 20,125,250,500] [--calls 30]   (on the tests' own stores)
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import math
import multiprocessing
import os
import re
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import numpy as np

import insights as question_bench
from axiom import connections, index, schema
from axiom.analysts.judge import judge_from_env
from axiom.analytics.correlation import correlations_at, month_ends
from axiom.analytics.patterns import SPACE
from axiom.config import Settings
from axiom.insights.answer import STORES
from axiom.insights.ask import ask
from axiom.insights.common import Stores
from axiom.models import NothingChanged
from axiom.pipelines import companies, correlations, events, prices
from axiom.pipelines.steps import Step, clients_of, symbol_chunks
from axiom.sources import synthetic
from axiom.stores import ledger

WINDOW = 30
BACKFILL = (date(2022, 1, 1), date(2022, 12, 31))  # make run's correlation backfill, inside the synthetic span
GOAL = 2.2
SCRATCH = "bench_raw_patterns"
QUESTIONS = ("buy", "rotation")  # whose statements are shown with their plans


def progress(text: str) -> None:
    print(f"[scale {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


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


CLIENTS = {"redis_client": connections.redis, "driver": connections.neo4j, "chroma_client": connections.chroma}


def in_task(fn, args: tuple, kwargs: dict, clients: list[str]):
    """In a fresh process, like an Airflow task: open the ledger and the clients the step names, time the call."""
    for name in ("axiom", "neo4j"):  # capped events' and schema notices would drown the progress lines
        logging.getLogger(name).setLevel(logging.ERROR)
    pg = connections.postgres()
    opened = {n: judge_from_env(pg) if n == "judge" else CLIENTS[n]() for n in clients}

    def call():
        try:
            return fn(pg, *args, **opened, **kwargs)
        except NothingChanged:  # the task skips
            return None

    try:
        return measured(call)
    finally:
        for client in opened.values():
            getattr(client, "close", lambda: None)()
        pg.close()


class Steps:
    """Runs each step in its own process, as its DAG task does: {(pipeline, step, store): (seconds, peak MiB)}."""

    def __init__(self, pg, size: int, context) -> None:
        self.pg, self.size, self.context = pg, size, context
        self.times: dict[tuple[str, str, str], tuple[float, int]] = {}

    def _process(self, fn, args: tuple, kwargs: dict):
        with ProcessPoolExecutor(1, mp_context=self.context, max_tasks_per_child=1) as pool:
            return pool.submit(in_task, fn, args, kwargs, clients_of(fn)).result()

    def run(self, pipeline: str, name: str, store: str, fn, *args, **kwargs):
        """``fn(ledger, *args, **the clients its keyword-only parameters name, **kwargs)`` in a fresh process."""
        result, seconds, peak = self._process(fn, args, kwargs)
        self.times[pipeline, name, store] = (seconds, peak)
        progress(f"{self.size} sym  {pipeline:<22} {name:<26} {store:<8} {seconds:8.2f} s {peak:>5} MiB")
        return result

    def declared(self, pipeline: str, declared: tuple[Step, ...], run_id: int, settings: Settings) -> dict:
        """A pipeline's declared steps on ``run_id`` as its DAG runs them, one task process each (a step that
        fans out: one per symbol chunk); what each returned, by step name."""
        return {
            step.name: (self.mapped if step.fan_out else self.task)(pipeline, step, run_id, **step.kwargs(settings))
            for step in declared
        }

    def task(self, pipeline: str, step: Step, run_id: int, **kwargs):
        """A ``pipeline_step`` task (its id is the step's name) on ``run_id``."""
        return self.run(pipeline, step.name, step.writes, step.run, run_id, **kwargs)

    def mapped(self, pipeline: str, step: Step, run_id: int, **kwargs) -> int:
        """A mapped task, one process per symbol chunk as the DAG fans it out (``AXIOM_SYMBOL_CHUNK``): the
        sum of the chunks' seconds and the largest peak; returns the sum of what they wrote."""
        chunks = symbol_chunks(self.pg, run_id, size=Settings.from_env().symbol_chunk)
        written, seconds, peak = 0, 0.0, 0
        for chunk in chunks:
            result, s, p = self._process(step.run, (run_id,), {**kwargs, "symbols": chunk})
            written, seconds, peak = written + (result or 0), seconds + s, max(peak, p)
        name = f"{step.name} (mapped)"
        self.times[pipeline, name, step.writes] = (seconds, peak)
        progress(f"{self.size} sym  {pipeline:<22} {name:<26} {step.writes:<8} {seconds:8.2f} s {peak:>5} MiB"
                 f"  ({len(chunks)} chunks)")  # fmt: skip
        return written


def verify(conn, collection: str, *, chroma_client, window: int) -> dict:
    """The ``semantic_index`` DAG's mapped ``verify`` task, for one collection."""
    return index.verify(conn, chroma_client, index.spec(collection), window=window)


def run_pipelines(
    steps: Steps, symbols: list[str] | None, landing: Path, settings: Settings, provider: str = "synthetic"
) -> dict:
    """The five pipelines over ``symbols`` (None: all) of ``provider`` from empty stores, in ``make run``'s order;
    what they wrote."""
    pg, counts = steps.pg, {}

    p = "P2 company graph"
    run = steps.run(p, "load_fundamentals", "postgres", companies.load_fundamentals,
                    companies.CompanyParams(provider=provider, symbols=symbols))  # fmt: skip
    done = steps.declared(p, companies.STEPS, run, settings)
    counts["competitor links"] = done["name_competitors"]["competitor_rows"]

    p = "P1 price ingestion"
    run = steps.run(p, "fetch", "landing", prices.fetch, prices.IngestParams(provider=provider, symbols=symbols),
                    landing_dir=landing)  # fmt: skip
    done = steps.declared(p, prices.STEPS, run, settings)
    counts["bars"], counts["pattern vectors"] = done["validate"]["accepted"], done["vectorise_patterns"]
    pg.execute("VACUUM ANALYZE price_bar")

    p = "P3 market events"
    run = steps.run(p, "collect", "postgres", events.collect, events.EventParams(provider=provider))
    counts["events"] = ledger.runs.get_run(pg, run).stats["accepted"]
    steps.declared(p, events.STEPS, run, settings)

    p = "P4 correlations"
    params = correlations.CorrelationParams(window=WINDOW, threshold=0.7, backfill_start=BACKFILL[0],
                                            backfill_end=BACKFILL[1])  # fmt: skip
    run = steps.run(p, "compute", "postgres", correlations.compute, params)
    counts["significant pairs"] = ledger.runs.get_run(pg, run).stats["significant"]
    counts["correlation documents"] = steps.declared(p, correlations.STEPS, run, settings)["vectorise"]

    p = "P5 semantic index"
    for spec in index.SPECS:
        steps.run(p, f"verify[{spec.collection}]", "chroma", verify, spec.collection, window=settings.pattern_window)
    return counts


def correlation(pg, symbols: list[str]) -> dict:
    """Every month-end's matrix as the pipeline computes it, beside bare np.corrcoef over the same arrays."""
    (returns, read_s, read_peak) = measured(correlations.load_returns, pg, symbols, None, None, WINDOW)
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


def answer(stores: Stores, question: str, symbol: str, as_of: date):
    """One fresh answer, as the ``ask`` DAG asks it but with the insight cache neither read nor written."""
    subject = symbol if question == "buy" else None
    return ask(stores, question, judge=judge_from_env(stores.conn), subject=subject, as_of=as_of, use_cache=False)


def _nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


def _node(n: dict) -> str:
    on = f" using {n['Index Name']}" if "Index Name" in n else ""
    on += f" on {n['Relation Name']}" if "Relation Name" in n else ""
    rows, loops, ms = (n.get(k) for k in ("Actual Rows", "Actual Loops", "Actual Total Time"))
    return f"{n['Node Type']}{on} (rows {rows}, loops {loops}, {ms} ms)"


def explain_questions(stores: Stores, symbol: str, as_of: date) -> list[str]:
    """Every statement one answer to each question issues, with its plan, from auto_explain on a session of its own."""
    conn = connections.postgres()
    notices: list[str] = []
    conn.add_notice_handler(lambda d: notices.append(d.message_primary or ""))
    conn.execute("LOAD 'auto_explain'")
    for setting in ("log_min_duration = 0", "log_analyze = on", "log_buffers = on", "log_format = json",
                    "log_level = notice"):  # fmt: skip
        conn.execute(f"SET auto_explain.{setting}")
    lines = []
    for question in QUESTIONS:
        notices.clear()
        answer(Stores(conn, stores.redis_client, stores.driver, stores.chroma_client), question, symbol, as_of)
        plans = [(float(m.group(1)), json.loads(m.group(2))) for m in
                 (re.match(r"duration: ([\d.]+) ms\s+plan:\n(.*)", n, re.S) for n in notices) if m]  # fmt: skip
        lines.append(f"  {question}: {len(plans)} statements, {sum(d for d, _ in plans):.1f} ms in the server")
        for duration, plan in plans:
            text = re.sub(r"\s+", " ", plan["Query Text"]).strip()
            lines.append(f"    {duration:8.2f} ms  {text[:110]}")
            nodes = list(_nodes(plan["Plan"]))
            scans = [n for n in nodes[1:] if "Scan" in n["Node Type"]]
            lines.extend(f"        {'top ' if i == 0 else 'scan'} {_node(n)}" for i, n in enumerate([nodes[0], *scans]))
    conn.close()
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


def per_doubling(sizes: list[int], values: list[float]) -> list[float]:
    """Growth factor per doubling of symbols between consecutive sizes (nan where a value is 0)."""
    return [
        (b / a) ** (math.log(2) / math.log(m / n)) if a > 0 and b > 0 else float("nan")
        for (n, a), (m, b) in itertools.pairwise(zip(sizes, values, strict=True))
    ]


def growth(sizes: list[int], values: list[float]) -> str:
    """The factors per doubling, each over the goal marked with '!'."""
    return " ".join(f"{f:5.2f}x{'!' if f > GOAL else ' '}" for f in per_doubling(sizes, values))


def print_steps(results: dict, sizes: list[int], scaled: list[int]) -> None:
    head = "".join(f"{str(n) + ' sym':>16}" for n in sizes)
    print(f"\nevery pipeline per step: wall seconds and peak RSS MiB; growth per doubling over {scaled} "
          f"(goal <= {GOAL}x, '!' above it)")  # fmt: skip
    keys = list(results[sizes[0]]["steps"])
    for pipeline in dict.fromkeys(k[0] for k in keys):
        print(f"\n{pipeline:<44}{head}   growth")
        mine = [k for k in keys if k[0] == pipeline]
        for key in mine:
            cells = "".join(f"{results[n]['steps'][key][0]:>9.2f} s {results[n]['steps'][key][1]:>4}M" for n in sizes)
            label = f"  {key[1]} [{key[2]}]"
            print(f"{label:<44}{cells}   {growth(scaled, [results[n]['steps'][key][0] for n in scaled])}")
        sub = {n: sum(results[n]["steps"][k][0] for k in mine) for n in sizes}
        print(f"{'  subtotal':<44}{''.join(f'{sub[n]:>9.2f} s      ' for n in sizes)}   "
              f"{growth(scaled, [sub[n] for n in scaled])}")  # fmt: skip

    print(f"\nper store, all pipelines (wall seconds){'':<5}{head}   growth")
    for store in ("landing", *STORES, "total"):
        sub = {n: sum(s for k, (s, _) in results[n]["steps"].items() if store in (k[2], "total")) for n in sizes}
        print(f"  {store:<42}{''.join(f'{sub[n]:>9.2f} s      ' for n in sizes)}   "
              f"{growth(scaled, [sub[n] for n in scaled])}")  # fmt: skip
    print(f"\n{'written':<44}{head}")
    for what in results[sizes[0]]["counts"]:
        cells = "".join(f"{results[n]['counts'][what]:>16,}" for n in sizes)
        print(f"  {what:<42}{cells}")
    for n in sizes:
        key, (_, peak) = max(results[n]["steps"].items(), key=lambda kv: kv[1][1])
        print(f"  max step peak RSS at {n:>4} symbols: {peak:>5} MiB ({key[0]}: {key[1]})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--wipe", action="store_true", help="required: the benchmark empties the stores first")
    parser.add_argument("--sizes", default="20,125,250,500", help="symbol counts, smallest first")
    parser.add_argument("--calls", type=int, default=30, help="answers per question and size")
    parser.add_argument("--real", action="store_true", help="first, the questions on the 20 real symbols")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if not args.wipe:
        raise SystemExit("benchmarks/scale.py empties all four stores: run it with --wipe on stores you can lose")
    os.environ.pop("ANTHROPIC_API_KEY", None)  # the rule-based analyst answers: a benchmark never pays
    logging.basicConfig(level=logging.WARNING)
    started = time.perf_counter()
    settings = Settings.from_env()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    try:
        known = synthetic.manifest(settings.synthetic_dir)
    except FileNotFoundError:
        known = {}
    if len(known.get("symbols", ())) < sizes[-1] or known.get("seed") != args.seed:
        progress(f"writing the synthetic universe: {sizes[-1]} symbols x 10 years, seed {args.seed}")
        synthetic.write(synthetic.generate(sizes[-1], 10, args.seed), settings.synthetic_dir)
        known = synthetic.manifest(settings.synthetic_dir)
    universe = known["symbols"]
    first, last = date.fromisoformat(known["first_session"]), date.fromisoformat(known["last_session"])
    as_of = first + timedelta(days=round(0.6 * (last - first).days))
    print(f"synthetic universe: {len(universe)} symbols, {first} to {last}, seed {known['seed']} "
          f"(simulated, not market data); questions as of {as_of}")  # fmt: skip

    pg, rds, neo, chroma = connections.postgres(), connections.redis(), connections.neo4j(), connections.chroma()
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["__main__"])  # task processes start with Axiom imported, as Airflow's do
    stores = Stores(pg, rds, neo, chroma)
    schema.migrate_postgres(pg)
    schema.migrate_neo4j(neo)
    landing = Path(tempfile.mkdtemp(prefix="axiom-scale-"))
    answered = []
    if args.real:
        progress("20 real symbols: emptying the stores, the five pipelines on the bundled history")
        connections.empty_test_stores(pg, rds, neo, chroma)
        run_pipelines(Steps(pg, 20, context), None, landing, settings, provider="offline")
        progress(f"20 real symbols: {args.calls} answers per question beside their raw round trips")
        answered.append(("20 real", question_bench.measure(stores, args.calls, args.seed)))
    results = {}
    for n in sizes:
        progress(f"{n} symbols: emptying the stores")
        connections.empty_test_stores(pg, rds, neo, chroma)
        symbols = universe[:n]
        steps = Steps(pg, n, context)
        counts = run_pipelines(steps, symbols, landing, settings)
        progress(f"{n} symbols: correlation matrices beside np.corrcoef")
        corr = correlation(pg, symbols)
        progress(f"{n} symbols: {args.calls} answers per question beside their raw round trips")
        results[n] = {"steps": steps.times, "counts": counts, "corr": corr}
        answered.append((f"{n} synthetic", question_bench.measure(stores, args.calls, args.seed)))
        progress(f"{n} symbols done: {sum(s for s, _ in steps.times.values()):.1f} s of steps")
    largest = sizes[-1]
    progress(f"{largest} symbols: the questions' statements under auto_explain")
    plans = explain_questions(stores, universe[0], as_of)
    progress(f"{largest} symbols: price patterns beside a raw Chroma add")
    chroma_cmp = chroma_versus_raw(pg, chroma, universe[:largest], settings.pattern_window)

    scaled = [n for n in sizes if n >= 125] if len([n for n in sizes if n >= 125]) >= 2 else sizes
    print_steps(results, sizes, scaled)

    print(f"\ncorrelations: every month-end matrix, window {WINDOW} (quadratic in symbols by nature)")
    for n in sizes:
        c = results[n]["corr"]
        ours, peak = c["ours"]
        print(f"  {n:>4} symbols: {c['matrices']} matrices  axiom {ours:.3f} s (peak {peak}M)  bare np.corrcoef "
              f"{c['bare']:.3f} s  ratio {ours / c['bare']:.2f}x  (ledger read {c['read'][0]:.2f} s)")  # fmt: skip
    print(f"  growth per doubling {scaled}: {growth(scaled, [results[n]['corr']['ours'][0] for n in scaled])}")

    question_bench.print_table(answered, args.calls)
    print(f"\nstatements the questions issue at {largest} symbols (auto_explain, ANALYZE): time, text, plan")
    print("\n".join(plans))

    step_s = results[largest]["steps"]["P1 price ingestion", "vectorise_patterns (mapped)", "chroma"][0]
    v = chroma_cmp["vectors"]
    print(f"\nchroma at {largest} symbols: {v:,} price-pattern vectors")
    print(f"  axiom step (ledger read, vectors, digests, upsert): {step_s:.1f} s = {v / step_s:,.0f}/s")
    print(f"  of which the write (step minus building the records, {chroma_cmp['build']:.1f} s): "
          f"{step_s - chroma_cmp['build']:.1f} s = {v / (step_s - chroma_cmp['build']):,.0f}/s")  # fmt: skip
    print(f"  raw collection.add of the same vectors: {chroma_cmp['raw']:.1f} s = {v / chroma_cmp['raw']:,.0f}/s")
    print(f"  axiom step at {chroma_cmp['raw'] / step_s:.2f}x the raw throughput; its write at "
          f"{chroma_cmp['raw'] / (step_s - chroma_cmp['build']):.2f}x")  # fmt: skip
    peak = max(p for n in sizes for _, p in results[n]["steps"].values())
    print(f"\nmax step peak RSS: {peak} MiB (goal < 1024 MiB at 500 x 10 years; each step in a task process of "
          f"its own); the benchmark's own process (correlations, questions, raw add): "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MiB")  # fmt: skip
    print(f"benchmark wall time: {(time.perf_counter() - started) / 60:.1f} min")
    pg.close()
    neo.close()


if __name__ == "__main__":
    main()
