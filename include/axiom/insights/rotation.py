"""Workflow 2, "which sectors are rotating into strength?": equal-weight sector returns over 1/5/20/60
sessions (Redis's cached scores when the as-of is their session, else the ledger), the rotation pairs
drawn in Neo4j, and historical analogues of today's sector profile from Chroma with what the leading
sector did over the next 20 sessions (only month-ends whose horizon had ended by the as-of).
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from axiom.analytics.sectors import HORIZONS, profile, rotation_pairs, sector_table
from axiom.calendar import epoch_day
from axiom.insights.answer import Recorder
from axiom.insights.common import Request, Stores, session_on_or_before, wide
from axiom.stores import cache, graph, ledger, vectors

QUESTION = "rotation"
HORIZON = 20
ANALOGUES = 8


def resolve(conn, subject, as_of, params: dict) -> Request:
    return Request("sectors", session_on_or_before(conn, as_of))


def gather(stores: Stores, rec: Recorder, request: Request) -> dict:
    conn, as_of = stores.conn, request.as_of
    sectors = rec.read(
        "postgres",
        "company sectors (reference classifications)",
        "ledger.companies.latest_companies: newest snapshot per company",
        {},
        lambda: {c.symbol: c.sector for c in ledger.companies.latest_companies(conn)},
        lambda m: {"companies": len(m), "sectors": sorted(set(m.values()))},
    )
    if not sectors:
        raise LookupError("no companies in the ledger: run the company_graph pipeline first")
    since = as_of - timedelta(days=2 * max(HORIZONS) + 30)
    cached = None
    if as_of == ledger.prices.session_span(conn)[1]:  # Redis holds the newest session's scores, nothing older
        cached = rec.read(
            "redis", "cached sector momentum", f"GET {cache.SECTOR_MOMENTUM}", {},
            lambda: cache.read_json(stores.redis_client, cache.SECTOR_MOMENTUM),
            lambda v: None if v is None else {"as_of": v["as_of"], "sectors": len(v["sectors"])},
        )  # fmt: skip
    if cached and cached["as_of"] == as_of.isoformat():
        table = pd.DataFrame(cached["sectors"]).set_index("sector")
    else:
        rec.note("sector momentum computed from the ledger (Redis caches only the newest session's scores)")
        closes = rec.read(
            "postgres",
            "sector members' closes",
            ledger.prices.CLOSES_SQL,
            {"symbols": len(sectors), "since": since, "until": as_of},
            lambda: wide(ledger.prices.closes(conn, sorted(sectors), since=since, until=as_of)),
            lambda w: {"sessions": len(w), "symbols": w.shape[1]},
        )
        table = sector_table(closes, sectors)

    pairs = [{**p, "as_of": as_of.isoformat()} for p in rotation_pairs(table)]
    rec.read(
        "neo4j", "rotation pairs drawn", graph.MERGE_ROTATION, {"rows": len(pairs)},
        lambda: graph.merge_rotation(stores.driver, pairs),
        lambda n: pairs,
    )  # fmt: skip

    sessions = ledger.prices.last_sessions(conn, as_of, HORIZON + 1)
    cutoff = sessions[0]  # a month-end on or before this has its 20-session horizon end by the as-of
    query = profile(table)
    found = rec.read(
        "chroma",
        "similar past month-end profiles",
        f"{vectors.SECTOR_PROFILES}.query(profile at as_of, where epoch_day <= horizon cut-off)",
        {"as_of": as_of, "cutoff": cutoff, "k": ANALOGUES},
        lambda: _similar_profiles(stores.chroma_client, query, cutoff),
        lambda ms: [{"as_of": m["as_of"], "leader": m["leader"], "distance": m["distance"]} for m in ms],
    )
    outcomes = rec.read(
        "postgres",
        f"leading sectors' next {HORIZON} sessions",
        ledger.prices.CLOSES_SQL,
        {"months": [m["as_of"] for m in found], "horizon": HORIZON, "until": as_of},
        lambda: _leader_outcomes(conn, found, sectors, as_of),
        lambda rows: rows,
    )
    relative = np.array([o["relative_return"] for o in outcomes])
    analogues = {"count": len(relative), "horizon": HORIZON}
    if len(relative):
        analogues |= {"median": float(np.median(relative)), "hit_rate": float((relative > 0).mean())}
    rows = [
        {"sector": s, **{k: float(table.loc[s, k]) for k in ("r_1", "r_5", "r_20", "r_60", "rs_20", "rs_60", "score")}}
        for s in table.index
    ]
    return {"as_of": as_of.isoformat(), "sectors": rows, "pairs": pairs, "analogues": analogues,
            "candidates": list(table.index)}  # fmt: skip


def _similar_profiles(chroma_client, query: np.ndarray, cutoff: date) -> list[dict]:
    collection = vectors.sector_profiles(chroma_client)
    if collection.count() == 0:
        return []
    result = collection.query(
        query_embeddings=[query.tolist()],
        n_results=min(ANALOGUES, collection.count()),
        where={"epoch_day": {"$lte": epoch_day(cutoff)}},
        include=["metadatas", "distances"],
    )
    return [{**m, "distance": float(d)} for m, d in zip(result["metadatas"][0], result["distances"][0], strict=True)]


def _leader_outcomes(conn, found: list[dict], sectors: dict[str, str], as_of: date) -> list[dict]:
    """What each analogue's leading sector did, relative to the universe, over the next ``HORIZON`` sessions."""
    if not found:
        return []
    first = min(date.fromisoformat(m["as_of"]) for m in found)
    closes = wide(ledger.prices.closes(conn, sorted(sectors), since=first, until=as_of))
    out = []
    for m in found:
        start = pd.Timestamp(m["as_of"], tz="UTC")
        if start not in closes.index:
            continue
        i = closes.index.get_loc(start)
        if i + HORIZON >= len(closes):
            continue  # the horizon had not ended by the as-of date
        change = closes.iloc[i + HORIZON] / closes.iloc[i] - 1
        members = [s for s in change.index if sectors.get(s) == m["leader"]]
        out.append(
            {
                "as_of": m["as_of"],
                "leader": m["leader"],
                "relative_return": float(change[members].mean() - change.mean()),
                "horizon_end": closes.index[i + HORIZON].date(),
            }
        )
    return out
