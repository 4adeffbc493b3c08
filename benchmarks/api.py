"""Benchmark: the Axiom API under a burst of mixed requests, beside the api-server's own floor.

Starts a real ``airflow api-server`` on loopback (the tests' api port), warms every route once, then sends
``--requests`` requests, ``--concurrency`` at once, mixed over the routes the page and its users call
(answers of the four questions, prices, correlations, the graph, search, similar companies); then the same
burst to Airflow's ``/api/v2/monitor/health`` (no store, no Axiom code: HTTP, auth and the server alone),
the raw baseline. Prints requests/s, p50/p99 and errors (any non-200) of each, and the most ledger
connections the api-server held (``pg_stat_activity``) beside its pool's size (``AXIOM_API_POOL_SIZE``), and the
api-server's memory once the burst loaded the text embedder (RSS of all its processes, the largest peak). Needs the
stores filled (``make run``, or the tests' stores after the tests).

    make bench      (on the tests' own stores; one script: scripts/bench.sh api [--requests 400 --concurrency 150])
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROUTES = [
    "/axiom/api/questions/buy/{symbol}?as_of={day}",
    "/axiom/api/questions/like/{symbol}?as_of={day}",
    "/axiom/api/questions/rotation?as_of={day}",
    "/axiom/api/questions/cascade?event=hike%2050bp&as_of={day}",
    "/axiom/api/prices/{symbol}?as_of={day}&sessions=250",
    "/axiom/api/correlations?as_of={day}",
    "/axiom/api/graph/{symbol}?as_of={day}",
    "/axiom/api/search?text=interest%20rates%20and%20{symbol}&k=5",
    "/axiom/api/similar/companies/{symbol}?k=5",
]


def mixed(count: int, symbols: list[str], days: list[str], routes: list[str] = ROUTES) -> list[str]:
    """``count`` request paths cycling through the routes, symbols and days (answers repeat: cache hits too)."""
    return [
        routes[i % len(routes)].format(symbol=symbols[i % len(symbols)], day=days[i % len(days)]) for i in range(count)
    ]


def burst(base: str, paths: list[str], concurrency: int, headers: dict) -> tuple[list[tuple[int, float, str]], float]:
    """GET every path, ``concurrency`` at once: (status, milliseconds, what went wrong) per request, and the
    seconds it all took."""

    def one(path: str) -> tuple[int, float, str]:
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(urllib.request.Request(base + path, headers=headers), timeout=300) as r:
                r.read()
                status, wrong = r.status, ""
        except urllib.error.HTTPError as exc:
            status, wrong = exc.code, exc.read().decode(errors="replace")[:200]
        except OSError as exc:  # refused or reset: an error too
            status, wrong = 0, str(exc)
        return status, (time.perf_counter() - started) * 1000, wrong

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        results = list(pool.map(one, paths))
    return results, time.perf_counter() - started


LEDGER_CONNECTIONS_SQL = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
)


def ledger_connections(pg) -> int:
    """Connections to the ledger's database other than ``pg`` itself."""
    return pg.execute(LEDGER_CONNECTIONS_SQL).fetchone()[0]


class PoolWatch:
    """The most connections to the ledger's database, beyond ``before``, while the block runs (sampled every
    20 ms from ``pg_stat_activity``): with ``before`` counted before the api-server started, what it held."""

    def __init__(self, pg, before: int) -> None:
        self.pg, self.before, self.most, self._stop = pg, before, 0, threading.Event()

    def __enter__(self) -> PoolWatch:
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.most = max(self.most, ledger_connections(self.pg) - self.before)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(name: str, results: list[tuple[int, float, str]], seconds: float) -> None:
    latencies = [ms for _, ms, _ in results]
    errors = Counter((status, wrong) for status, _, wrong in results if status != 200)
    print(
        f"  {name:<34} {len(results) / seconds:7.1f} requests/s   p50 {percentile(latencies, 0.5):7.1f} ms"
        f"   p99 {percentile(latencies, 0.99):7.1f} ms   errors {errors.total()}"
    )
    for (status, wrong), n in errors.most_common(5):
        print(f"    {n} x HTTP {status}: {wrong}")


def api_server(logs: Path) -> subprocess.Popen:
    """``airflow api-server`` on ``AIRFLOW__API__PORT``, once it answers its health route."""
    out = (logs / "api-server.log").open("w")
    process = subprocess.Popen(["airflow", "api-server"], stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{os.environ.get('AIRFLOW__API__PORT', '8080')}/api/v2/monitor/health"
    for _ in range(180):
        try:
            urllib.request.urlopen(url, timeout=2)
            return process
        except OSError:
            if process.poll() is not None:
                raise SystemExit((logs / "api-server.log").read_text()[-2000:]) from None
            time.sleep(1)
    process.terminate()
    raise SystemExit("the api-server did not answer within 180 s")


def process_tree(pid: int) -> list[int]:
    """``pid`` and every process below it (the api-server's uvicorn workers)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for children in Path(f"/proc/{current}/task").glob("*/children"):
            todo += [int(c) for c in children.read_text().split()]
    return found


def memory_mib(pids: list[int]) -> tuple[float, float]:
    """(RSS now, summed; the largest peak RSS of one process) of ``pids``, MiB."""
    rss, peak = 0.0, 0.0
    for pid in pids:
        fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
        rss += int(fields["VmRSS"].split()[0]) / 1024
        peak = max(peak, int(fields["VmHWM"].split()[0]) / 1024)
    return rss, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=150)
    args = parser.parse_args()

    from airflow.api_fastapi.app import init_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    from axiom import connections
    from axiom.stores import ledger

    pg = connections.postgres()
    symbols = ledger.prices.symbols(pg)
    if not symbols:
        raise SystemExit("the ledger is empty: run `make run` (or the tests) first")
    days = [d.isoformat() for d in ledger.prices.last_sessions(pg, ledger.prices.session_span(pg)[1], 60)[-20:]]
    token = init_auth_manager().generate_jwt(SimpleAuthManagerUser(username="axiom-bench", role="viewer"))
    headers = {"Authorization": f"Bearer {token}"}
    base = f"http://127.0.0.1:{os.environ.get('AIRFLOW__API__PORT', '8080')}"
    before = ledger_connections(pg)
    server = api_server(Path(tempfile.mkdtemp(prefix="axiom-bench-api-")))
    try:
        # each route once (clients made, the model loaded); a route whose data the stores lack is left out
        warm, _ = burst(base, mixed(len(ROUTES), symbols, days), 1, headers)
        routes = [route for route, (status, _, _) in zip(ROUTES, warm, strict=True) if status == 200]
        for route, (status, _, _) in zip(ROUTES, warm, strict=True):
            if status != 200:
                print(f"  left out (HTTP {status} before the burst: the stores lack its data): {route}")
        paths = mixed(args.requests, symbols, days, routes)
        with PoolWatch(pg, before) as watch:
            ours, ours_s = burst(base, paths, args.concurrency, headers)
        floor, floor_s = burst(base, ["/api/v2/monitor/health"] * args.requests, args.concurrency, headers)
        rss, peak = memory_mib(process_tree(server.pid))  # after the burst: the text embedder is loaded
    finally:
        server.terminate()
        server.wait(timeout=60)
    size = int(os.environ.get("AXIOM_API_POOL_SIZE", 10))
    print(f"\nThe Axiom API: {args.requests} requests, {args.concurrency} at once, {len(routes)} routes mixed")
    report("Axiom routes (mixed)", ours, ours_s)
    report("api-server health (raw baseline)", floor, floor_s)
    print(f"  ledger connections the api-server held at most: {watch.most} (its pool: {size} per worker)")
    print(f"  api-server memory after the burst, text embedder loaded: RSS {rss:,.0f} MiB (all its processes), "
          f"largest peak of one process {peak:,.0f} MiB")  # fmt: skip
    pg.close()


if __name__ == "__main__":
    main()
