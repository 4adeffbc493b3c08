"""``ingestion_run`` and ``rejected_row``: every run with its typed scope and counters, and the rows it refused.

A run's *scope* says what the run works on (symbols, dates, event ids, as-of dates, where its
fetched rows wait) and what an earlier step found that a later one decides on (whether the load
changed anything, which symbols were re-based); later steps read it with ``scope()``, one typed
reader. Its *stats* are counters for people (fetched, accepted, loaded, announced...), merged as
the steps go; no step branches on them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import date, timedelta
from pathlib import Path

from psycopg.types.json import Jsonb

from axiom.stores.ledger.db import transaction
from axiom.validation import Rejects


@dataclass(frozen=True)
class RunScope:
    """What a run works on; every field has one meaning in every pipeline."""

    symbols: tuple[str, ...] = ()
    interval: str = "1d"
    start: date | None = None
    end: date | None = None
    window: int | None = None
    as_ofs: tuple[date, ...] = ()
    event_ids: tuple[int, ...] = ()
    landing: Path | None = None
    adjusted: bool = True
    changed: bool = False  # the load inserted or changed a bar (or re-based history): there is news to announce
    rebased: tuple[str, ...] = ()  # symbols whose history the load re-based: their derived series start over

    @property
    def latest_as_of(self) -> date | None:
        return max(self.as_ofs) if self.as_ofs else None

    def to_json(self) -> dict:
        out = asdict(self)
        out["symbols"], out["event_ids"], out["rebased"] = list(self.symbols), list(self.event_ids), list(self.rebased)
        out["as_ofs"] = [d.isoformat() for d in self.as_ofs]
        for key in ("start", "end"):
            out[key] = out[key].isoformat() if out[key] else None
        out["landing"] = str(self.landing) if self.landing else None
        return out

    @classmethod
    def from_json(cls, data: dict) -> RunScope:
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown run scope fields {sorted(unknown)}")
        day = date.fromisoformat
        return cls(
            symbols=tuple(data.get("symbols") or ()),
            interval=data.get("interval", "1d"),
            start=day(data["start"]) if data.get("start") else None,
            end=day(data["end"]) if data.get("end") else None,
            window=data.get("window"),
            as_ofs=tuple(day(d) for d in data.get("as_ofs") or ()),
            event_ids=tuple(data.get("event_ids") or ()),
            landing=Path(data["landing"]) if data.get("landing") else None,
            adjusted=bool(data.get("adjusted", True)),
            changed=bool(data.get("changed")),
            rebased=tuple(data.get("rebased") or ()),
        )


@dataclass(frozen=True)
class Run:
    run_id: int
    pipeline: str
    provider: str
    params: dict
    status: str
    scope: RunScope
    stats: dict = field(default_factory=dict)


def start_run(
    conn, *, pipeline: str, provider: str, params: dict, scope: RunScope | None = None, origin: str | None = None
) -> int:
    """Record a run and return its id. A run started again from the same ``origin`` (an Airflow DAG run,
    ``{dag_id}/{run_id}``, whose first task is retried) gets its own run back, reopened."""
    with transaction(conn):
        row = conn.execute(
            "INSERT INTO ingestion_run (pipeline, provider, params, scope, origin) VALUES (%s, %s, %s, %s, %s)"
            " ON CONFLICT (origin) WHERE origin IS NOT NULL DO UPDATE SET status = 'running', params = EXCLUDED.params,"
            " scope = EXCLUDED.scope, finished_at = NULL RETURNING run_id",
            (pipeline, provider, Jsonb(params), Jsonb((scope or RunScope()).to_json()), origin),
        ).fetchone()
    return row[0]


def run_of(conn, origin: str) -> Run | None:
    """The run an Airflow DAG run (``{dag_id}/{run_id}``) started, if any."""
    row = conn.execute("SELECT run_id FROM ingestion_run WHERE origin = %s", (origin,)).fetchone()
    return None if row is None else get_run(conn, row[0])


def get_run(conn, run_id: int) -> Run:
    """The run with its typed scope."""
    row = conn.execute(
        "SELECT pipeline, provider, params, status, scope, stats FROM ingestion_run WHERE run_id = %s", (run_id,)
    ).fetchone()
    if row is None:
        raise LookupError(f"no ingestion run {run_id}")
    pipeline, provider, params, status, scope, stats = row
    return Run(run_id, pipeline, provider, params, status, RunScope.from_json(scope), stats)


def scope(conn, run_id: int) -> RunScope:
    """The run's scope: what its later steps work on."""
    return get_run(conn, run_id).scope


def update_scope(conn, run_id: int, **changes) -> RunScope:
    """Replace some fields of the run's scope (e.g. the symbols that passed validation); return it."""
    new = replace(scope(conn, run_id), **changes)
    with transaction(conn):
        conn.execute("UPDATE ingestion_run SET scope = %s WHERE run_id = %s", (Jsonb(new.to_json()), run_id))
    return new


def add_stats(conn, run_id: int, stats: dict) -> None:
    """Merge counters into the run's stats."""
    with transaction(conn):
        conn.execute("UPDATE ingestion_run SET stats = stats || %s WHERE run_id = %s", (Jsonb(stats), run_id))


def add_counts(conn, run_id: int, counts: dict[str, int]) -> None:
    """Add to the run's integer counters: the mapped tasks of one run each add their share, and
    concurrent updates of the row serialise, so none is lost."""
    with transaction(conn):
        conn.execute(
            "UPDATE ingestion_run SET stats = stats || (SELECT jsonb_object_agg(c.key,"
            " COALESCE((stats ->> c.key)::bigint, 0) + c.value::bigint) FROM jsonb_each_text(%s) AS c)"
            " WHERE run_id = %s",
            (Jsonb(counts), run_id),
        )


def finish(conn, run_id: int, status: str, stats: dict | None = None) -> None:
    """Mark the run ``succeeded`` or ``failed`` (with its counters) and stamp its finish time."""
    with transaction(conn):
        conn.execute(
            "UPDATE ingestion_run SET status = %s, stats = stats || %s, finished_at = now() WHERE run_id = %s",
            (status, Jsonb(stats or {}), run_id),
        )


def fail(conn, origin: str, reason: str) -> int | None:
    """Mark the still running run an Airflow DAG run started as ``failed``, with the reason; return its id."""
    with transaction(conn):
        row = conn.execute(
            "UPDATE ingestion_run SET status = 'failed', stats = stats || %s, finished_at = now()"
            " WHERE origin = %s AND status = 'running' RETURNING run_id",
            (Jsonb({"failure": reason[:2000]}), origin),
        ).fetchone()
    return None if row is None else row[0]


def settled_through(conn, pipeline: str) -> int:
    """The newest run id of ``pipeline`` below which no run is still running (0 when there is none)."""
    return conn.execute(
        "SELECT coalesce((SELECT min(run_id) - 1 FROM ingestion_run WHERE pipeline = %s AND status = 'running'),"
        " (SELECT max(run_id) FROM ingestion_run WHERE pipeline = %s), 0)",
        (pipeline, pipeline),
    ).fetchone()[0]


def writing_run(conn, pipeline: str, *, within: timedelta) -> int | None:
    """The newest run of ``pipeline`` still running that started less than ``within`` ago (None when none):
    one running longer is taken to have died without saying so."""
    row = conn.execute(
        "SELECT max(run_id) FROM ingestion_run WHERE pipeline = %s AND status = 'running' AND started_at > now() - %s",
        (pipeline, within),
    ).fetchone()
    return row[0]


def all_succeeded_between(conn, pipeline: str, after: int, through: int) -> bool:
    """Whether every run of ``pipeline`` with ``after < run_id <= through`` succeeded."""
    return not conn.execute(
        "SELECT EXISTS (SELECT 1 FROM ingestion_run WHERE pipeline = %s AND run_id > %s AND run_id <= %s"
        " AND status <> 'succeeded')",
        (pipeline, after, through),
    ).fetchone()[0]


def newest_runs(conn) -> dict[str, tuple[int, str]]:
    """Per pipeline, its newest run and that run's status: the version of the data the stores hold (a new
    run, or a run that ends, changes it)."""
    rows = conn.execute(
        "SELECT DISTINCT ON (pipeline) pipeline, run_id, status FROM ingestion_run ORDER BY pipeline, run_id DESC"
    ).fetchall()
    return {pipeline: (run_id, status) for pipeline, run_id, status in rows}


def status_counts(conn) -> dict[str, int]:
    """How many runs ended (or stand) in each status."""
    return dict(conn.execute("SELECT status, count(*) FROM ingestion_run GROUP BY status").fetchall())


def record_rejects(conn, run_id: int, dataset: str, rejects: Rejects) -> int:
    """Keep rejected rows with their reasons; a row seen before bumps its counters."""
    if not len(rejects):
        return 0
    rows = []
    for payload, reason in zip(rejects.payloads, rejects.reasons, strict=True):
        text = json.dumps(payload, sort_keys=True)
        rows.append((dataset, reason, Jsonb(payload), hashlib.sha256(text.encode()).hexdigest(), run_id, run_id))
    with transaction(conn), conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO rejected_row (dataset, reason, payload, payload_sha256, first_run_id, last_run_id)"
            " VALUES (%s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (dataset, reason, payload_sha256) DO UPDATE SET last_run_id = EXCLUDED.last_run_id,"
            " seen_count = rejected_row.seen_count + 1, last_seen = now()",
            rows,
        )
    return len(rows)
