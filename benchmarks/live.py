"""Benchmark: Axiom live, hop by hop. A replay (``axiom.replay``) releases ``--sessions`` real sessions (or
synthetic ones: ``--source synthetic``) through a real Airflow on the tests' stores; then, per session, the
time from its release to each hop of the live path, p50 and p99 over the sessions:

    released -> ledger committed (price_ingestion.load) -> price:{S}:latest set (cache_latest) -> price_updates
    published (announce) -> divergence_alerts run started -> first alert in signal:stream (its entry id's time)
    -> read by a stream consumer (a consumer group of this benchmark) -> read by the page's live client (the
    SSE route the page's EventSource reads, with its reconnection), and when the page's snapshot showed the session

and the share of each hop that is Airflow's own (scheduling, queueing and task start-up): the part of the
hop's interval in which no Axiom step was working (each step's work is stamped with its session in
``session_hop``).

Backlog and soak: every ``--sample`` seconds it records the lag behind the clock, the DAG runs queued, the
entries pending in the stream's consumer groups, and the memory (PSS) of every long-running process (the api-server,
scheduler with its executor workers, dag-processor, triggerer, and the tests' Redis, Neo4j, Chroma and
PostgreSQL). It prints each as the median of the first fifth of the run after a warm-up against the last
tenth (flat means no backlog; the soak's goal: memory grows at most 10 %), the failed runs, and ends with
``python -m axiom doctor`` (drift between the ledger and its projections).

    scripts/bench.sh live --sessions 60                      (20 real symbols from 2020-02-18)
    scripts/bench.sh live --source synthetic --sessions 60   (the synthetic universe: python -m axiom synth)
    scripts/bench.sh live --sessions 120 --every 30s         (the sustained rate; --sessions 250: the soak)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import numpy as np

from axiom import connections, replay
from axiom.alerts import ALERT_HOP
from axiom.stores import cache, ledger
from axiom.stores.ledger.live import RELEASED

ROOT = Path(__file__).resolve().parents[1]
HOPS = (  # (label, hop whose end marks it); the alert run's start is that hop's started_at
    ("ledger committed", "price_ingestion.load"),
    ("price:{S}:latest set", "price_ingestion.cache_latest"),
    ("price_updates published", "price_ingestion.announce"),
    ("divergence_alerts started", ALERT_HOP),
)
GROUP = "axiom-bench-live"


class StreamReader(threading.Thread):
    """A consumer group member reading signal:stream as the alerts fire: the time each entry was read."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.client = connections.redis()
        self.read: dict[str, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            entries = cache.read_signals(self.client, group=GROUP, consumer="bench", block_ms=500)
            now = time.time()
            for _, signal in entries:
                self.read.setdefault(ledger.signals.signal_id(signal), now)
            cache.acknowledge(self.client, GROUP, [e for e, _ in entries])


class PageReader(threading.Thread):
    """The page's live client as the browser runs it: ``/axiom/api/live`` (SSE) with the replay's token,
    reconnecting after its last event id when a stream ends. Stamps when each alert arrived and when a
    snapshot first showed each session."""

    def __init__(self, base_url: str, headers: dict) -> None:
        super().__init__(daemon=True)
        self.url, self.headers = f"{base_url}/axiom/api/live", headers
        self.alerts: dict[str, float] = {}
        self.sessions: dict[str, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        last = None
        while not self.stop.is_set():
            headers = self.headers | ({"Last-Event-ID": last} if last else {})
            try:
                with httpx.stream("GET", self.url, headers=headers, timeout=httpx.Timeout(10, read=60)) as response:
                    event: dict = {}
                    for line in response.iter_lines():
                        if self.stop.is_set():
                            return
                        if line and not line.startswith(":"):
                            name, _, value = line.partition(":")
                            event[name] = value.strip()
                        elif not line and "data" in event:
                            now, data = time.time(), json.loads(event["data"])
                            last = event.get("id", last)
                            if event.get("event") == "alert":
                                self.alerts.setdefault(data["id"], now)
                            elif event.get("event") == "snapshot" and data.get("session"):
                                self.sessions.setdefault(data["session"], now)
                            event = {}
            except httpx.HTTPError:
                pass
            self.stop.wait(1)


def tree(pid: int) -> list[int]:
    """``pid`` and its children (the scheduler's executor workers; a task's own process comes and goes)."""
    found = [pid]
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        found += [int(c) for c in children.read_text().split()]
    return found


def memory_mib(pids: list[int]) -> float:
    """The proportional set size (PSS) of ``pids``, summed: pages shared by forked processes (the scheduler's
    executor workers) counted once across them, where summing their RSS would count them in each."""
    total = 0.0
    for pid in pids:
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue  # ended between the listing and the read
        total += int(next(line for line in rollup.splitlines() if line.startswith("Pss:")).split()[1]) / 1024
    return total


def long_running() -> dict[str, int]:
    """Name -> PID of every long-running process of the replay: its Airflow and the tests' stores."""
    state = Path(os.environ.get("AXIOM_STATE_DIR", ROOT / ".state"))
    files = {part: Path(os.environ["AXIOM_AIRFLOW_RUN"]) / f"{part}.pid"
             for part in ("api-server", "scheduler", "dag-processor", "triggerer")}  # fmt: skip
    files |= {store: state / f"{store}-test" / f"{store}.pid" for store in ("redis", "neo4j", "chroma")}
    pids = {name: int(f.read_text().split()[0]) for name, f in files.items() if f.exists()}
    postmaster = subprocess.run(["pgrep", "-o", "-x", "postgres"], capture_output=True, text=True).stdout.split()
    if postmaster:
        pids["postgres"] = int(postmaster[0])
    return pids


class Sampler(threading.Thread):
    """Every ``seconds``: memory (PSS) per long-running process, runs queued, entries pending, lag behind the clock."""

    def __init__(self, airflow, redis_client, lags: list[float], seconds: float) -> None:
        super().__init__(daemon=True)
        self.airflow, self.redis_client, self.lags, self.seconds = airflow, redis_client, lags, seconds
        self.pids = long_running()
        self.samples: list[dict] = []
        self.stop = threading.Event()

    def pending(self) -> int:
        try:
            groups = self.redis_client.xinfo_groups(cache.SIGNAL_STREAM)
        except Exception:  # no stream yet
            return 0
        return sum(g["pending"] for g in groups)

    def run(self) -> None:
        while not self.stop.wait(self.seconds):
            sample = {name: memory_mib(tree(pid) if name == "scheduler" else [pid]) for name, pid in self.pids.items()}
            sample |= {"queued runs": self.airflow.run_count("queued"), "pending entries": self.pending(),
                       "lag (s)": self.lags[-1] if self.lags else 0.0}  # fmt: skip
            self.samples.append(sample)

    def report(self) -> None:
        """Each measure early in the run (after a warm-up: its first fifth) against its end (the last tenth)."""
        n = len(self.samples)
        if n < 10:
            print(f"(only {n} samples: too short a run to compare its start with its end)")
            return
        early, late = self.samples[n // 10 : n // 10 + max(1, n // 5)], self.samples[-max(1, n // 10) :]
        print(f"\nover the run ({n} samples, one per {self.seconds:g} s): after warm-up -> at the end")
        for key in self.samples[0]:
            a, b = np.median([s[key] for s in early]), np.median([s[key] for s in late])
            growth = f"{(b / a - 1):+7.1%}" if key not in ("queued runs", "pending entries", "lag (s)") and a else ""
            unit = " MiB" if growth else ""
            print(f"  {key:18s} {a:9.1f}{unit:4s} -> {b:9.1f}{unit:4s} {growth}")


def covered(intervals: list[tuple[float, float]], start: float, end: float) -> float:
    """Seconds of [start, end] inside the union of ``intervals``."""
    total, cursor = 0.0, start
    for a, b in sorted(intervals):
        a, b = max(a, cursor), min(b, end)
        if b > a:
            total += b - a
            cursor = b
    return total


def table(pg, redis_client, reader: StreamReader, page: PageReader, sessions: list[date]) -> list[tuple]:
    """Per hop: p50 and p99 seconds after the release, and the Airflow share of the hop's own interval."""
    hops = ledger.live.hops(pg, sessions[0], sessions[-1])
    entries = {}
    for entry_id, fields in redis_client.xrange(cache.SIGNAL_STREAM):
        signal_id = fields.get(b"id", b"").decode()
        entries.setdefault(signal_id, int(entry_id.decode().split("-")[0]) / 1000)
    rows = {label: [] for label, _ in HOPS} | {
        "first alert streamed": [],
        "read by a stream consumer": [],
        "read by the page's live client": [],
        "page shows the session": [],
    }
    airflow = {label: [] for label in rows}
    for session in sessions:
        stamped = hops.get(session, {})
        if RELEASED not in stamped:
            continue
        t0 = stamped[RELEASED]["at"].timestamp()
        work = [(h["started_at"].timestamp(), h["at"].timestamp()) for k, h in stamped.items() if k != RELEASED]
        marks = []
        for label, hop in HOPS:
            if hop in stamped:
                marks.append(
                    (label, (stamped[hop]["started_at"] if hop == ALERT_HOP else stamped[hop]["at"]).timestamp())
                )
        fired = [i for i in entries if f":{session.isoformat()}:" in i]
        if fired:
            first = min(fired, key=lambda i: entries[i])
            marks.append(("first alert streamed", entries[first]))
            if first in reader.read:
                marks.append(("read by a stream consumer", reader.read[first]))
            if first in page.alerts:
                rows["read by the page's live client"].append(page.alerts[first] - t0)
        if session.isoformat() in page.sessions:
            rows["page shows the session"].append(page.sessions[session.isoformat()] - t0)
        previous = t0
        for label, at in marks:
            rows[label].append(at - t0)
            if at > previous:
                airflow[label].append(1 - covered(work, previous, at) / (at - previous))
            previous = max(previous, at)
    return [
        (
            label,
            len(v),
            np.percentile(v, 50),
            np.percentile(v, 99),
            np.mean(airflow[label]) if airflow[label] else np.nan,
        )
        for label, v in rows.items()
        if v
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", default="offline", choices=["offline", "synthetic"])
    parser.add_argument("--first", default="2020-02-18", help="first session released")
    parser.add_argument("--sessions", type=int, default=60, help="how many sessions to release")
    parser.add_argument("--every", default="0", help="one session per this long (0: each as soon as the last is done)")
    parser.add_argument("--history-from", default="2018-01-02")
    parser.add_argument("--symbols", default=None)
    parser.add_argument("--sample", type=float, default=10.0, help="seconds between backlog and memory samples")
    args = parser.parse_args()

    from axiom_airflow.rest import AirflowRest

    first = date.fromisoformat(args.first)
    symbols = args.symbols.split(",") if args.symbols else replay.get_provider(args.source).universe()
    todo = replay.sessions(args.source, symbols, first, date(first.year + 3, 12, 31))[: args.sessions]
    pg, redis_client = connections.postgres(), connections.redis()
    connections.empty_test_stores(pg, redis_client, connections.neo4j(), connections.chroma())
    subprocess.run([ROOT / "scripts" / "services.sh", "start-airflow-test"], check=True)
    reader = StreamReader()
    reader.start()
    airflow = AirflowRest()
    page = PageReader(airflow.base_url, {"Authorization": airflow.client.headers["Authorization"]})
    page.start()
    lags: list[float] = []

    def say(line: str) -> None:
        print(line, flush=True)
        if " behind the clock" in line:
            lags.append(float(line.split("released ")[1].split(" s behind")[0]))

    params = replay.ReplayParams(
        first=todo[0], last=todo[-1], source=args.source, symbols=symbols,
        every_seconds=replay.parse_every(args.every), history_from=date.fromisoformat(args.history_from),
    )  # fmt: skip
    sampler = Sampler(AirflowRest(), connections.redis(), lags, args.sample)
    began = datetime.now(UTC)
    try:
        sampler.start()
        summary = replay.replay(pg, redis_client, params, airflow, say=say)
        time.sleep(2)  # the consumer's last reads
        failed = airflow.run_count("failed", since=began)
    finally:
        sampler.stop.set()
        airflow.close()
        reader.stop.set()
        page.stop.set()
        subprocess.run([ROOT / "scripts" / "services.sh", "stop-airflow"], check=False)  # the one it started
    print(f"\nAxiom live, {len(symbols)} {args.source} symbols, {len(todo)} sessions from {todo[0]} to {todo[-1]}, "
          f"one every {params.every_seconds:g} s (started {began:%H:%M} UTC)")  # fmt: skip
    print(f"{'hop (seconds after the release)':34s} {'n':>4s} {'p50':>7s} {'p99':>7s}  Airflow's share of the hop")
    for label, n, p50, p99, share in table(pg, redis_client, reader, page, todo):
        print(f"{label:34s} {n:4d} {p50:7.1f} {p99:7.1f}  {share:6.0%}")
    if len(lags) >= 20:
        print(f"lag behind the clock: first 10 sessions median {np.median(lags[:10]):.1f} s, "
              f"last 10 {np.median(lags[-10:]):.1f} s")  # fmt: skip
    print(replay.comparison_line(summary["comparison"]))
    sampler.report()
    print(f"failed DAG runs since the replay began: {failed}; stream entries pending at the end: {sampler.pending()}")
    doctor = subprocess.run([sys.executable, "-m", "axiom", "doctor"], capture_output=True, text=True)
    print("doctor:", (doctor.stdout.strip().splitlines() or [doctor.stderr.strip()])[-1])


if __name__ == "__main__":
    main()
