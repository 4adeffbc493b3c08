"""``replay`` (a replay's clock and state: what the replay price provider may serve) and ``session_hop``
(when each session reached each hop of the live path, and how long Axiom's own code worked in it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from axiom.stores.ledger.db import transaction

REPLAY_COLUMNS = (
    "replay_id", "source", "symbols", "first_session", "last_session", "every_seconds", "clock", "state", "message",
    "started_at", "updated_at",
)  # fmt: skip
RELEASED = "released"  # the hop a replay stamps when its clock reaches a session


@dataclass(frozen=True)
class Replay:
    replay_id: int
    source: str
    symbols: tuple[str, ...]
    first_session: date
    last_session: date
    every_seconds: float
    clock: date | None
    state: str
    message: str | None
    started_at: datetime
    updated_at: datetime

    def as_json(self) -> dict:
        out = {c: getattr(self, c) for c in REPLAY_COLUMNS}
        for c in ("first_session", "last_session", "clock", "started_at", "updated_at"):
            out[c] = out[c].isoformat() if out[c] is not None else None
        out["symbols"] = list(self.symbols)
        return out


def _replay(row) -> Replay:
    values = dict(zip(REPLAY_COLUMNS, row, strict=True))
    return Replay(**{**values, "symbols": tuple(values["symbols"])})


def start(conn, *, source: str, symbols: list[str], first: date, last: date, every_seconds: float) -> Replay:
    """A new replay, its clock before ``first``; any replay still marked active is stopped first (one clock)."""
    with transaction(conn):
        conn.execute(
            "UPDATE replay SET state = 'stopped', message = 'another replay started', updated_at = now()"
            " WHERE state NOT IN ('failed', 'finished', 'stopped')"
        )
        row = conn.execute(
            f"INSERT INTO replay (source, symbols, first_session, last_session, every_seconds)"
            f" VALUES (%s, %s, %s, %s, %s) RETURNING {', '.join(REPLAY_COLUMNS)}",
            (source, list(symbols), first, last, every_seconds),
        ).fetchone()
    return _replay(row)


def current(conn) -> Replay | None:
    """The newest replay (whatever its state), or None when none ever ran on these stores."""
    row = conn.execute(f"SELECT {', '.join(REPLAY_COLUMNS)} FROM replay ORDER BY replay_id DESC LIMIT 1").fetchone()
    return _replay(row) if row else None


def set_state(conn, replay_id: int, state: str, message: str | None = None) -> None:
    conn.execute(
        "UPDATE replay SET state = %s, message = %s, updated_at = now() WHERE replay_id = %s",
        (state, message, replay_id),
    )


def set_clock(conn, replay_id: int, session: date) -> None:
    """Put a resumed replay's clock on ``session``, released before (no hop is stamped again)."""
    conn.execute("UPDATE replay SET clock = %s, updated_at = now() WHERE replay_id = %s", (session, replay_id))


def release(conn, replay_id: int, session: date) -> None:
    """Move the replay's clock to ``session`` and stamp the session ``released`` (the first release counts)."""
    with transaction(conn):
        conn.execute(
            "UPDATE replay SET clock = %s, state = 'running', message = NULL, updated_at = now() WHERE replay_id = %s",
            (session, replay_id),
        )
        _stamp(conn, session, RELEASED, 0.0)


def stamp(conn, session: date, hop: str, work_seconds: float) -> None:
    """``session`` reached ``hop`` now, after ``work_seconds`` of Axiom's work. A hop stamped again (another
    chunk of a fanned-out step, a retried task) keeps its first start and its latest end, its work summed."""
    with transaction(conn):
        _stamp(conn, session, hop, work_seconds)


def _stamp(conn, session: date, hop: str, work_seconds: float) -> None:
    conn.execute(
        "INSERT INTO session_hop (session, hop, at, work_seconds, started_at)"
        " VALUES (%(session)s, %(hop)s, clock_timestamp(), %(work)s,"
        "         clock_timestamp() - make_interval(secs => %(work)s))"
        " ON CONFLICT (session, hop) DO UPDATE SET at = greatest(session_hop.at, excluded.at),"
        "   work_seconds = session_hop.work_seconds + excluded.work_seconds,"
        "   started_at = least(session_hop.started_at, excluded.started_at)",
        {"session": session, "hop": hop, "work": float(work_seconds)},
    )


def hops(conn, first: date, last: date) -> dict[date, dict[str, dict]]:
    """Every stamped hop of the sessions from ``first`` to ``last``: session -> hop -> at, started_at, work_seconds."""
    out: dict[date, dict[str, dict]] = {}
    for session, hop, at, started_at, work in conn.execute(
        "SELECT session, hop, at, started_at, work_seconds FROM session_hop WHERE session BETWEEN %s AND %s"
        " ORDER BY session, at",
        (first, last),
    ):
        out.setdefault(session, {})[hop] = {"at": at, "started_at": started_at, "work_seconds": work}
    return out


def stamped(conn, session: date, hop: str) -> bool:
    return (
        conn.execute("SELECT 1 FROM session_hop WHERE session = %s AND hop = %s", (session, hop)).fetchone() is not None
    )


def moved(conn) -> str:
    """Changes whenever the live path moves: a hop stamped (the latest prices cached is one), the replay's state
    or clock moved. Two index reads in one statement."""
    row = conn.execute("SELECT (SELECT max(at) FROM session_hop), (SELECT max(updated_at) FROM replay)").fetchone()
    return "|".join(str(v) for v in row)
