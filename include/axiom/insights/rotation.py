"""Workflow 2, "which sectors are rotating into strength?": equal-weight sector returns over 1/5/20/60
sessions (Redis's cached scores when the as-of is their session, else the ledger), the rotation pairs
the pipelines drew in Neo4j (``ROTATES_TO`` of the as-of session), and historical analogues of the
sector profile from Chroma with what the leading sector did over the next 20 sessions (only
month-ends whose horizon had ended by the as-of). The answer reads; it writes nothing.

The ledger's ``sector_momentum`` rows (kept by the pipelines) are read for the as-of session and the
analogues' horizon ends, never the members' closes, so the answer reads the same number of rows
however many symbols the sectors hold.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from axiom import reads, search
from axiom.analytics.sectors import HORIZONS, profile, rotation_pairs
from axiom.insights.answer import Recorder
from axiom.insights.common import Request, Stores
from axiom.stores import cache, graph, ledger, vectors

QUESTION = "rotation"
SUBJECT = None
HORIZON = 20
ANALOGUES = 8


def resolve(conn, subject, as_of, params: dict) -> Request:
    session = reads.session_of(conn, as_of)
    return Request("sectors", session.as_of, newest=session.newest)


def gather(stores: Stores, rec: Recorder, request: Request) -> dict:
    conn, as_of = stores.conn, request.as_of
    drawn = rec.begin(  # needs only the as-of: begun first, read while the rest is
        "neo4j", "rotation pairs of the as-of session", graph.ROTATION_AT, {"as_of": as_of},
        lambda: graph.read(stores.driver, graph.ROTATION_AT, as_of=as_of.isoformat()),
    )  # fmt: skip
    momentum = None
    if as_of == request.newest:  # Redis holds the newest session's scores, nothing older
        momentum = rec.read(
            "redis", "cached sector momentum", f"GET {cache.SECTOR_MOMENTUM}", {},
            lambda: cache.read_json(stores.redis_client, cache.SECTOR_MOMENTUM),
            lambda v: None if v is None else {"as_of": v["as_of"], "sectors": len(v["sectors"])},
        )  # fmt: skip
    if not (momentum and momentum["as_of"] == as_of.isoformat()):
        rec.note("sector momentum read from the ledger (Redis caches only the newest session's scores)")
        momentum = rec.read(
            "postgres",
            "sector momentum of the as-of session",
            ledger.sectors.AT_SQL,
            {"session": as_of},
            lambda: reads.sector_momentum(conn, as_of),
            lambda v: None if v is None else {"as_of": v["as_of"], "sectors": len(v["sectors"])},
        )
    if momentum is None:
        raise LookupError(
            f"no sector momentum on {as_of}: it needs companies (company_graph) and {max(HORIZONS) + 1} sessions"
            " of their prices (price_ingestion)"
        )
    table = pd.DataFrame(momentum["sectors"]).set_index("sector")

    sessions = ledger.prices.last_sessions(conn, as_of, HORIZON + 1)
    cutoff = sessions[0]  # a month-end on or before this has its 20-session horizon end by the as-of
    query = profile(table)
    found = rec.read(
        "chroma",
        "similar past month-end profiles",
        f"{vectors.SECTOR_PROFILES}.query(profile at as_of, where epoch_day <= horizon cut-off)",
        {"as_of": as_of, "cutoff": cutoff, "k": ANALOGUES},
        lambda: search.similar_sector_profiles(stores.chroma_client, query, cutoff, k=ANALOGUES),
        lambda ms: [{"as_of": m["as_of"], "leader": m["leader"], "distance": m["distance"]} for m in ms],
    )
    if not found:
        rec.gap(f"Chroma returned no month-end sector profile on or before {cutoff}")
    outcomes = rec.read(
        "postgres",
        f"leading sectors' next {HORIZON} sessions",
        ledger.sectors.AT_SQL,
        {"months": [m["as_of"] for m in found], "horizon": HORIZON, "until": as_of},
        lambda: _leader_outcomes(conn, found, as_of),
        lambda rows: rows,
    )
    pairs = drawn.result()
    if not pairs and rotation_pairs(table):
        rec.gap(f"the graph has no ROTATES_TO edges of {as_of}: run price_ingestion or company_graph to draw them")
    relative = np.array([o["relative_return"] for o in outcomes])
    analogues = {"count": len(relative), "horizon": HORIZON}
    if len(relative):
        analogues |= {"median": float(np.median(relative)), "hit_rate": float((relative > 0).mean())}
    rows = [
        {"sector": r["sector"], **{k: float(r[k]) for k in ("r_1", "r_5", "r_20", "r_60", "rs_20", "rs_60", "score")}}
        for r in momentum["sectors"]
    ]
    return {"as_of": as_of.isoformat(), "sectors": rows, "pairs": pairs, "analogues": analogues,
            "candidates": list(table.index)}  # fmt: skip


def _leader_outcomes(conn, found: list[dict], as_of: date) -> list[dict]:
    """What each analogue's leading sector did, relative to the universe, over the next ``HORIZON`` sessions:
    its ``rs_20`` on the session ``HORIZON`` sessions later (the sector's 20-session return minus the
    universe's, from the analogue's session on), for the horizons that ended by the as-of."""
    ends = {}
    for m in found:
        start = date.fromisoformat(m["as_of"])
        sessions = ledger.prices.next_sessions(conn, start, HORIZON + 1, until=as_of)
        if len(sessions) == HORIZON + 1 and sessions[0] == start:
            ends[m["as_of"]] = sessions[-1]
    rows = ledger.sectors.at(conn, sorted(set(ends.values()))) if ends else []
    relative = {(r["session"], r["sector"]): r[f"rs_{HORIZON}"] for r in rows}
    out = []
    for m in found:
        key = (ends.get(m["as_of"]), m["leader"])
        if key not in relative:
            continue  # the horizon had not ended by the as-of, or the leader had no member that session
        out.append(
            {"as_of": m["as_of"], "leader": m["leader"], "relative_return": float(relative[key]), "horizon_end": key[0]}
        )
    return out
