"""Workflow 3, risk cascade after a Fed decision: which companies the decision reaches through the graph,
how each behaved on and after every earlier rate hike, similar past decisions, and the analyst's ranked
exposure list.

The subject is a decision date (the FOMC decision of that day in the ledger, on or before the as-of when
one is given), nothing (the latest decision on or before the as-of), or a hypothetical ``hike 50bp`` /
``cut 25bp`` on the as-of date. The answer stands on the as-of (default: the decision's session).

* Neo4j: companies reached from the decision by ``AFFECTS|BELONGS_TO`` paths of 1 to 3 hops, with the
  decision's measured sector sensitivity; a hypothetical decision reaches every company through its
  sector, with the sector's mean sensitivity to earlier decisions. Debt-to-equity comes from the
  company snapshot and is shown as reference only (it is dated after most decisions).
* PostgreSQL: every rate hike before the as-of (the FOMC fixture covers every change of the federal
  funds target since 1990) and each company's return on the decision day and over the next 5
  sessions, counted only when those 5 sessions had ended by the as-of.
* Chroma: the most similar earlier decisions by meaning (only events dated before the decision and the as-of).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import pandas as pd

from axiom import search
from axiom.insights.answer import Recorder
from axiom.insights.common import Request, Stores, Subject, read_closes
from axiom.reads import session_on_or_before
from axiom.stores import graph, ledger, vectors
from axiom.validation import parse_date

QUESTION = "cascade"
SUBJECT = Subject(
    "event",
    False,
    r"^(\d{4}-\d{2}-\d{2}|(hike|cut) \d{1,4}bp)$",
    "a Fed decision date (2022-06-15), a hypothetical 'hike 50bp' or 'cut 25bp' on the as-of date,"
    " or nothing: the latest decision on or before the as-of",
)
AFTER = 5
HYPOTHETICAL = re.compile(r"^(hike|cut) (\d{1,4})bp$")


def resolve(conn, subject, as_of, params: dict) -> Request:
    text = re.sub(r"\s*bp$", "bp", " ".join((subject or "").lower().split()))  # "Hike  50 bp" is "hike 50bp"
    if text and not re.fullmatch(SUBJECT.pattern, text):
        raise ValueError(f"event must be {SUBJECT.description}; got {subject!r}")
    match = HYPOTHETICAL.fullmatch(text)
    if match:
        bp = int(match.group(2)) * (1 if match.group(1) == "hike" else -1)
        day = session_on_or_before(conn, as_of)
        return Request(f"hypothetical {match.group(1)} {abs(bp)}bp", day, {"change_bp": bp, "event_id": None})
    decided, requested = parse_date(text, "event") if text else None, parse_date(as_of, "as_of")
    if decided and requested and decided > requested:
        raise ValueError(f"the decision of {decided} is after as_of {requested}: nothing after the as-of is read")
    until = decided or requested or ledger.prices.session_span(conn)[1]
    decisions = ledger.events.fed_decisions(conn, datetime.combine(until + timedelta(days=1), time(), tzinfo=UTC))
    if decided:
        decisions = [d for d in decisions if d["occurred_at"].astimezone(UTC).date() == decided]
    if not decisions:
        where = f"on {decided}" if decided else f"on or before {until}"
        raise LookupError(f"no Fed decision in the ledger {where}: run the market_events pipeline, or ask 'hike 50bp'")
    event = decisions[-1]
    day = event["occurred_at"].astimezone(UTC).date()
    return Request(
        event["title"],
        session_on_or_before(conn, requested or day),
        {"change_bp": event["facts"].get("change_bp"), "event_id": event["event_id"], "decided": day.isoformat()},
    )


def gather(stores: Stores, rec: Recorder, request: Request) -> dict:
    conn, as_of = stores.conn, request.as_of
    event_id = request.params["event_id"]
    decided = date.fromisoformat(request.params.get("decided") or as_of.isoformat())
    if event_id is None:  # the graph, the earlier hikes and the similar decisions need nothing read: begun at once
        reaching = rec.begin(
            "neo4j", "companies through their sectors (hypothetical decision)", graph.SECTOR_EXPOSURE_BEFORE,
            {"until": as_of}, lambda: graph.read(stores.driver, graph.SECTOR_EXPOSURE_BEFORE, until=as_of.isoformat()),
        )  # fmt: skip
    else:
        reaching = rec.begin(
            "neo4j", "companies the decision reaches (1-3 hops)", graph.CASCADE, {"event_id": event_id},
            lambda: graph.read(stores.driver, graph.CASCADE, event_id=event_id),
        )  # fmt: skip
    before = datetime.combine(as_of, time(), tzinfo=UTC)
    hiking = rec.begin(
        "postgres",
        "earlier rate hikes",
        ledger.events.FED_DECISIONS_SQL,
        {"before": as_of},
        lambda: [d for d in ledger.events.fed_decisions(conn, before) if (d["facts"].get("change_bp") or 0) > 0],
        lambda ds: {"hikes": len(ds), "first": ds[0]["occurred_at"].date() if ds else None},
    )
    alike = rec.begin(
        "chroma",
        "similar earlier decisions",
        f"{vectors.MARKET_EVENTS}.query(text, where event_type = fed_decision and epoch_day < as_of)",
        {"text": request.subject, "until": min(as_of, decided) - timedelta(days=1)},
        lambda: search.search(
            stores.chroma_client,
            request.subject,
            kinds=[vectors.MARKET_EVENTS],
            where=search.where_clause(event_type="fed_decision", until=min(as_of, decided) - timedelta(days=1)),
            k=5,
        ),
        lambda hits: [{"date": h.metadata.get("date"), "title": h.document, "distance": h.distance} for h in hits],
    )
    reached, hikes = reaching.result(), hiking.result()
    if not reached:
        raise LookupError("the graph reaches no company from this decision: run the company_graph pipeline")
    symbols = sorted({r["symbol"] for r in reached})
    since = (hikes[0]["occurred_at"].date() - timedelta(days=10)) if hikes else as_of
    closes = read_closes(rec, conn, "reached companies' closes around every hike", symbols, since, as_of)
    reactions = _reactions(closes, [d["occurred_at"].astimezone(UTC).date() for d in hikes])
    similar = alike.result()
    companies = []
    for r in reached:
        stats = reactions.get(r["symbol"], {})
        companies.append(
            {
                "symbol": r["symbol"],
                "sector": r["sector"],
                "hops": r["hops"],
                "sensitivity": r["sensitivity"],
                "debt_to_equity": r["debt_to_equity"],
                **stats,
            }
        )
    rec.note("debt-to-equity is from each company's latest snapshot: shown as reference, not scored")
    return {
        "decision": request.subject,
        "as_of": as_of.isoformat(),
        "change_bp": request.params["change_bp"],
        "hikes": len(hikes),
        "companies": companies,
        "similar": [h.metadata.get("date") for h in similar],
        "candidates": symbols,
    }


def _reactions(closes: pd.DataFrame, days: list) -> dict[str, dict]:
    """Per symbol: mean return on the decision day and over the next ``AFTER`` sessions, across ``days``."""
    index, values = closes.index, closes.to_numpy(dtype=float)
    if not days or not len(index):
        return {}
    at = index.searchsorted(pd.DatetimeIndex([pd.Timestamp(d, tz="UTC") for d in days]))  # a weekend decision
    inside = (at > 0) & (at + AFTER < len(index))  # meets the market the next session; its 5 sessions had ended
    at, decided = at[inside], pd.DatetimeIndex([pd.Timestamp(d, tz="UTC") for d in days])[inside]
    at = at[(index[at] - decided).days <= 4]  # no session near that day: not counted
    prev, today, later = values[at - 1], values[at], values[at + AFTER]
    ok = np.isfinite(prev) & np.isfinite(today) & np.isfinite(later)
    counts = ok.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        on_day = np.where(ok, today / prev - 1, 0.0).sum(axis=0) / counts
        after = np.where(ok, later / today - 1, 0.0)
        down = (ok & (after < 0)).sum(axis=0) / counts
        after = after.sum(axis=0) / counts
    return {
        s: {
            "hikes": int(counts[j]),
            "hike_day_mean": float(on_day[j]),
            "next5_mean": float(after[j]),
            "down_share": float(down[j]),
        }
        for j, s in enumerate(closes.columns)
        if counts[j]
    }
