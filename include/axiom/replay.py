"""Axiom live: replay a real market session by session through the scheduled, event-driven path.

A replay releases one session of its source (``offline``: the real packaged history; ``synthetic``: the
simulated universe, for load) at a time, on a clock. The ``replay`` price provider serves nothing after
the clock, so every session is fetched, validated, loaded and projected by the same DAGs, triggers and
tasks as with ``yfinance``: Airflow does the work, the replay only rings the closing bell.

Per session, as a live deployment runs its evening (see docs/pipelines.md, "Live"):

1. the clock moves to the session (hop ``released``) and ``price_ingestion`` is triggered for it (live:
   its weekday cron after the close); ledger -> ``price:{S}:latest`` -> Stock nodes -> patterns ->
   sector momentum -> ``price_updates`` published;
2. ``divergence_alerts`` follows by itself: the triggerer's AssetWatcher turns each ``price_updates``
   message into an Asset event (and the ``price_bar`` Asset event covers a triggerer that was down);
3. once the session's pairs are checked, ``market_events`` (that session's abnormal moves and FOMC
   decisions) and ``correlations`` (that session's matrix: ``CORRELATED_WITH`` and the Redis matrix stand on
   it) are triggered (live: their crons at 23:00 and 23:30); ``semantic_index`` follows their Asset events.

The clock waits for the data: a session whose run fails is triggered again (``attempts``), and a session
that still fails stops the replay, marked failed with the reason. Starting again resumes after the
ledger's newest session: none released twice or skipped. At the end the alerts are compared, pair by
pair and session by session, with an offline recomputation over the same sessions (``expected``).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

from axiom.alerts import CHECKED_HOP, AlertParams, divergences
from axiom.sources.prices import REPLAY_SOURCES, get_provider
from axiom.stores import cache, ledger
from axiom.stores.ledger.live import RELEASED
from axiom.validation import parse_dates, parse_symbols

log = logging.getLogger(__name__)

RUN_TIMEOUT = 1800.0  # seconds one pipeline run of a session (or of the backfill) may take


class Orchestrator(Protocol):
    """What a replay asks of Airflow (``axiom_airflow.rest.AirflowRest``)."""

    def unpause(self, dag_id: str) -> None: ...
    def trigger(self, dag_id: str, conf: dict, *, label: str) -> str: ...
    def wait(self, dag_id: str, run_id: str, *, timeout: float) -> str: ...


class ReplayFailed(RuntimeError):
    """A session (or the backfill) still failed after its attempts: the clock stays where the data is."""


@dataclass(frozen=True)
class ReplayParams:
    first: date
    last: date
    source: str = "offline"
    symbols: list[str] | None = None
    every_seconds: float = 15.0
    history_from: date | None = None  # the backfill's first session (None: all the source has)
    attempts: int = 3
    window: int = 30  # the correlations' window and threshold, as make run computes them
    threshold: float = 0.7

    def __post_init__(self):
        if self.source not in REPLAY_SOURCES:
            raise ValueError(f"a replay releases {' or '.join(REPLAY_SOURCES)} history, not {self.source!r}")
        if self.first > self.last:
            raise ValueError(f"the replay's first session {self.first} is after its last {self.last}")
        if not 0 <= self.every_seconds <= 86400:
            raise ValueError(f"every must be between 0 s and a day, got {self.every_seconds}")
        if not 1 <= self.attempts <= 10:
            raise ValueError(f"attempts must be between 1 and 10, got {self.attempts}")
        if self.history_from is not None and self.history_from >= self.first:
            raise ValueError(f"the history to backfill must start before {self.first}, not on {self.history_from}")

    @classmethod
    def parse(cls, params: dict) -> ReplayParams:
        first, last = parse_dates(params.get("first"), params.get("last"))
        if first is None or last is None:
            raise ValueError("a replay needs its first and last session (from, to)")
        history_from, _ = parse_dates(params.get("history_from"), None)
        return cls(
            first=first,
            last=last,
            source=params.get("source") or "offline",
            symbols=parse_symbols(params.get("symbols")),
            every_seconds=float(params.get("every_seconds", cls.every_seconds)),
            history_from=history_from,
            attempts=int(params.get("attempts", cls.attempts)),
        )


def parse_every(text: str) -> float:
    """``15s``, ``2m``, ``0.5`` (seconds) as seconds."""
    text = str(text).strip().lower()
    scale = {"s": 1, "m": 60, "h": 3600}.get(text[-1:], None)
    try:
        return float(text[:-1]) * scale if scale else float(text)
    except ValueError:
        raise ValueError(f"every is a duration such as 15s, 2m or 0.5, not {text!r}") from None


def sessions(source: str, symbols: list[str], first: date, last: date) -> list[date]:
    """The source's sessions from ``first`` to ``last`` (days on which any of ``symbols`` has a bar)."""
    bars = get_provider(source).fetch(symbols, first, last)
    return sorted({ts.date() for ts in bars["ts"]})


def _run(orchestrator: Orchestrator, dag_id: str, conf: dict, *, label: str, attempts: int) -> str:
    """Trigger ``dag_id`` and wait; trigger it again after a failure, ``attempts`` times in all."""
    return _run_all(orchestrator, {dag_id: conf}, label=label, attempts=attempts)[dag_id]


def _run_all(orchestrator: Orchestrator, confs: dict[str, dict], *, label: str, attempts: int) -> dict[str, str]:
    """Trigger each DAG of ``confs`` at once (they run side by side), wait for all; a run that fails is
    triggered again, ``attempts`` times in all. Returns each DAG's successful run id."""
    done: dict[str, str] = {}
    for attempt in range(1, attempts + 1):
        runs = {
            dag_id: orchestrator.trigger(dag_id, conf, label=label)
            for dag_id, conf in confs.items()
            if dag_id not in done
        }
        for dag_id, run_id in runs.items():
            state = orchestrator.wait(dag_id, run_id, timeout=RUN_TIMEOUT)
            if state == "success":
                done[dag_id] = run_id
            else:
                log.warning("%s run %s for %s: %s (attempt %d of %d)", dag_id, run_id, label, state, attempt, attempts)
        if len(done) == len(confs):
            return done
    failed = sorted(set(confs) - set(done))
    raise ReplayFailed(f"{', '.join(failed)} for {label} did not succeed in {attempts} attempts")


def _wait_for_hop(conn, session: date, hop: str, *, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ledger.live.stamped(conn, session, hop):
            return True
        time.sleep(0.25)
    return False


def backfill(conn, params: ReplayParams, symbols: list[str], orchestrator: Orchestrator) -> None:
    """History before the first session, when the ledger lacks it: companies, prices, events and the one
    correlation matrix the first session's pairs stand on."""
    before = params.first - timedelta(days=1)
    span = ledger.prices.session_span(conn)
    if span is not None and span[0] <= before:
        return
    log.info("replay: backfilling %s history of %d symbols from %s to %s", params.source, len(symbols),
             params.history_from or "the start", before)  # fmt: skip
    one = {"attempts": params.attempts}
    _run(orchestrator, "company_graph", {"symbols": symbols, "provider": params.source}, label="companies", **one)
    history = {"symbols": symbols, "start": params.history_from and params.history_from.isoformat(),
               "end": before.isoformat()}  # fmt: skip
    _run(orchestrator, "price_ingestion", {**history, "provider": params.source}, label="history", **one)
    _run(orchestrator, "market_events", {**history, "provider": "offline"}, label="history-events", **one)
    newest = ledger.prices.session_span(conn)[1]
    conf = {"symbols": symbols, "window": params.window, "threshold": params.threshold, "as_of": newest.isoformat()}
    _run(orchestrator, "correlations", conf, label="history-correlations", **one)


def replay(conn, redis_client, params: ReplayParams, orchestrator: Orchestrator, *, say=print) -> dict:
    """Release the sessions from ``first`` to ``last`` one at a time through Airflow; return the summary with
    the comparison against the offline recomputation."""
    symbols = params.symbols or get_provider(params.source).universe()
    todo = sessions(params.source, symbols, params.first, params.last)
    if not todo:
        raise ValueError(f"the {params.source} history has no session from {params.first} to {params.last}")
    current = ledger.live.start(conn, source=params.source, symbols=symbols, first=params.first, last=params.last,
                                every_seconds=params.every_seconds)  # fmt: skip
    replay_id = current.replay_id
    for dag_id in ("company_graph", "price_ingestion", "market_events", "correlations", "divergence_alerts",
                   "semantic_index"):  # fmt: skip
        orchestrator.unpause(dag_id)
    try:
        ledger.live.set_state(conn, replay_id, "backfilling")
        backfill(conn, params, symbols, orchestrator)
        newest = ledger.prices.session_span(conn)[1]
        pending = [s for s in todo if s > newest]
        if newest >= todo[0]:  # resumed: the clock stands where the ledger's data does
            ledger.live.set_clock(conn, replay_id, min(newest, todo[-1]))
        say(f"replay {replay_id}: {len(todo)} sessions from {todo[0]} to {todo[-1]}, {len(todo) - len(pending)} "
            f"released before; one every {params.every_seconds:g} s")  # fmt: skip
        began = time.monotonic()
        for i, session in enumerate(pending):
            tick = began + i * params.every_seconds
            if time.monotonic() < tick:
                time.sleep(tick - time.monotonic())
            lag = time.monotonic() - tick
            ledger.live.release(conn, replay_id, session)
            released = time.monotonic()
            day = {"symbols": symbols, "start": session.isoformat(), "end": session.isoformat()}
            _run(orchestrator, "price_ingestion", {**day, "provider": "replay"}, label=f"{session}",
                 attempts=params.attempts)  # fmt: skip
            if not _wait_for_hop(conn, session, CHECKED_HOP, timeout=RUN_TIMEOUT):
                raise ReplayFailed(f"no divergence_alerts run checked {session} (is the triggerer running?)")
            conf = {"symbols": symbols, "window": params.window, "threshold": params.threshold,
                    "as_of": session.isoformat()}  # fmt: skip
            _run_all(orchestrator, {"market_events": {**day, "provider": "offline"}, "correlations": conf},
                     label=f"{session}-after", attempts=params.attempts)  # fmt: skip
            say(session_line(conn, session, lag=lag, cycle=time.monotonic() - released))
    except ReplayFailed as failed:
        ledger.live.set_state(conn, replay_id, "failed", str(failed))
        raise
    except BaseException as stopped:  # Ctrl-C, a task's timeout: the ledger says where the clock stopped
        ledger.live.set_state(conn, replay_id, "stopped", f"{type(stopped).__name__}: {stopped}")
        raise
    ledger.live.set_state(conn, replay_id, "finished")
    comparison = compare(conn, redis_client, todo, window=params.window)
    say(comparison_line(comparison))
    return {"replay_id": replay_id, "sessions": len(todo), "comparison": comparison}


def session_line(conn, session: date, *, lag: float, cycle: float) -> str:
    """One progress line: the session, its bars, events and alerts, and how far behind the clock it is."""
    bars = ledger.prices.bar_count_on(conn, session)
    alerts = ledger.signals.between(conn, session, session)
    events = ledger.events.count_on(conn, session)
    named = ", ".join(f"{s['a']}/{s['b']} z {s['z']:+.1f}" for s in alerts)
    return (f"{session}: {bars} bars, {events} events, {len(alerts)} alerts{f' ({named})' if named else ''}; "
            f"released {lag:.1f} s behind the clock, done in {cycle:.1f} s")  # fmt: skip


def expected(conn, released: list[date], params: AlertParams | None = None, *, window: int = 30) -> list[dict]:
    """The divergences an offline recomputation finds on the ``released`` sessions, with the live alert
    runs' parameters: per session, the pairs the ledger held correlated at the newest matrix before it
    (what the graph's edges stood on when the session was checked), and ``alerts.divergences`` of the
    closes up to it."""
    params = params or AlertParams()
    dates = ledger.correlations.as_of_dates(conn).get(window, [])
    if not released:
        return []
    since = released[0] - timedelta(days=2 * params.formation + 30)
    closes = ledger.prices.close_table(conn, ledger.prices.symbols(conn), since=since, until=released[-1])
    found = []
    for session in released:
        before = [d for d in dates if d < session]
        if not before:
            continue
        pairs = [
            r
            for r in ledger.correlations.correlations(conn, window=window, as_ofs=[before[-1]])
            if abs(r["coefficient"]) >= params.min_coefficient
        ]
        found += divergences(closes, pairs, session, params)
    return found


def compare(conn, redis_client, released: list[date], *, window: int = 30) -> dict:
    """The alerts the replay fired (kept in the ledger, each streamed how many times) against ``expected``:
    pair by pair and session by session."""
    fired = {ledger.signals.signal_id(s) for s in ledger.signals.between(conn, released[0], released[-1])}
    wanted = {ledger.signals.signal_id(s) for s in expected(conn, released, window=window)}
    streamed = Counter(cache.streamed_ids(redis_client))
    return {
        "sessions": len(released),
        "alerts": len(fired),
        "expected": len(wanted),
        "equal": len(wanted & fired),
        "missing": sorted(wanted - fired),
        "extra": sorted(fired - wanted),
        "unstreamed": sorted(i for i in fired if streamed[i] == 0),
        "doubled": sorted(i for i in fired if streamed[i] > 1),
    }


def comparison_line(c: dict) -> str:
    return (f"alerts: {c['alerts']} fired over {c['sessions']} sessions, {c['expected']} expected by the offline "
            f"recomputation: {c['equal']} equal, {len(c['missing'])} missing, {len(c['extra'])} extra, "
            f"{len(c['doubled'])} doubled, {len(c['unstreamed'])} not streamed")  # fmt: skip


def state(conn) -> dict | None:
    """The current replay for ``status`` and the page: its clock, state and the newest session's hops."""
    current = ledger.live.current(conn)
    if current is None:
        return None
    out = current.as_json()
    if current.clock is not None:
        hops = ledger.live.hops(conn, current.clock, current.clock).get(current.clock, {})
        released = hops.get(RELEASED, {}).get("at")
        out["clock_hops"] = (
            {h: round((v["at"] - released).total_seconds(), 3) for h, v in hops.items()} if released else {}
        )
    return out
