"""Benchmark: Axiom live, hop by hop. A replay (``axiom.replay``) releases ``--sessions`` real sessions (or
synthetic ones: ``--source synthetic``) through a real Airflow on the tests' stores; then, per session, the
time from its release to each hop of the live path, p50 and p99 over the sessions:

    released -> ledger committed (price_ingestion.load) -> price:{S}:latest set (cache_latest) -> price_updates
    published (announce) -> divergence_alerts run started -> first alert in signal:stream (its entry id's time)
    -> read by a stream consumer (a consumer group of this benchmark) [-> read by the page's live client]

and the share of each hop that is Airflow's own (scheduling, queueing and task start-up): the part of the
hop's interval in which no Axiom step was working (each step's work is stamped with its session in
``session_hop``). Also the lag behind the clock, first sessions against last (flat means no backlog).

    scripts/bench.sh live --sessions 60                      (20 real symbols from 2020-02-18)
    scripts/bench.sh live --source synthetic --sessions 60   (the synthetic universe: python -m axiom synth)
"""

from __future__ import annotations

import argparse
import subprocess
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path

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


def covered(intervals: list[tuple[float, float]], start: float, end: float) -> float:
    """Seconds of [start, end] inside the union of ``intervals``."""
    total, cursor = 0.0, start
    for a, b in sorted(intervals):
        a, b = max(a, cursor), min(b, end)
        if b > a:
            total += b - a
            cursor = b
    return total


def table(pg, redis_client, reader: StreamReader, sessions: list[date]) -> list[tuple]:
    """Per hop: p50 and p99 seconds after the release, and the Airflow share of the hop's own interval."""
    hops = ledger.live.hops(pg, sessions[0], sessions[-1])
    entries = {}
    for entry_id, fields in redis_client.xrange(cache.SIGNAL_STREAM):
        signal_id = fields.get(b"id", b"").decode()
        entries.setdefault(signal_id, int(entry_id.decode().split("-")[0]) / 1000)
    rows = {label: [] for label, _ in HOPS} | {"first alert streamed": [], "read by a stream consumer": []}
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
    lags: list[float] = []

    def say(line: str) -> None:
        print(line, flush=True)
        if " behind the clock" in line:
            lags.append(float(line.split("released ")[1].split(" s behind")[0]))

    params = replay.ReplayParams(
        first=todo[0], last=todo[-1], source=args.source, symbols=symbols,
        every_seconds=replay.parse_every(args.every), history_from=date.fromisoformat(args.history_from),
    )  # fmt: skip
    airflow = AirflowRest()
    began = datetime.now(UTC)
    try:
        summary = replay.replay(pg, redis_client, params, airflow, say=say)
        time.sleep(2)  # the consumer's last reads
    finally:
        airflow.close()
        reader.stop.set()
        subprocess.run([ROOT / "scripts" / "services.sh", "stop-airflow"], check=False)  # the one it started
    print(f"\nAxiom live, {len(symbols)} {args.source} symbols, {len(todo)} sessions from {todo[0]} to {todo[-1]}, "
          f"one every {params.every_seconds:g} s (started {began:%H:%M} UTC)")  # fmt: skip
    print(f"{'hop (seconds after the release)':34s} {'n':>4s} {'p50':>7s} {'p99':>7s}  Airflow's share of the hop")
    for label, n, p50, p99, share in table(pg, redis_client, reader, todo):
        print(f"{label:34s} {n:4d} {p50:7.1f} {p99:7.1f}  {share:6.0%}")
    if len(lags) >= 20:
        print(f"lag behind the clock: first 10 sessions median {np.median(lags[:10]):.1f} s, "
              f"last 10 {np.median(lags[-10:]):.1f} s")  # fmt: skip
    print(replay.comparison_line(summary["comparison"]))


if __name__ == "__main__":
    main()
