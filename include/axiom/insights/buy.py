"""Workflow 1, "is X a buy?": price, trend, competitive position, recent events, correlated peers and
similar past scenarios, read point in time from all four stores, judged by the analyst.

* Redis: the company's reference facts (name, sector, industry: classifications, nothing dated) and
  the price when the as-of is the cached latest bar's session (the ledger's close otherwise).
* PostgreSQL: the symbol's and its competitors' closes up to the as-of session: trend (close vs
  5/20/60-session averages, momentum, 20-session volatility, drawdown from the 60-session high) and
  peers' 20-session returns; and the symbol's strongest pairs in the correlations pipeline's newest
  matrix dated on or before the as-of (its ledger time series), so the answer reads a bounded number
  of rows however many symbols the ledger holds.
* Neo4j: competitors (``COMPETES_WITH``; company classifications are reference data, and a peer's
  market cap is used only from a snapshot dated on or before the as-of), and the events within the
  7 sessions up to the as-of (``AFFECTED_BY``, and sector-level ``AFFECTS`` scaled by sensitivity).
* Chroma: the past windows most like the symbol's last 30 sessions whose 20-session horizon had
  ended by the as-of date, with their realised forward returns (median, spread, count, hit rate).
* PostgreSQL again: the track record of the evaluated verdicts (``signal_outcome``), from the outcomes that had
  ended by the as-of only; the answer says how verdicts of its label fared against all, and when that shows no edge.

Each store is read once; reads that need nothing read before them run at once (``Recorder.begin``). The
facts the analyst judges are one typed value, ``BuyFacts``, built by ``buy_facts`` alone: the walk-forward
evaluation builds its facts with the same function.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date

import numpy as np

from axiom import quotes, search
from axiom.analytics.correlation import DEFAULT_WINDOW
from axiom.analytics.patterns import window_summary
from axiom.analytics.trend import trend_facts, window_return
from axiom.insights.answer import Recorder
from axiom.insights.common import SYMBOL_SUBJECT, Request, Stores, read_closes, record_words
from axiom.reads import session_of, symbol_of
from axiom.stores import cache, graph, ledger, vectors

QUESTION = "buy"
SUBJECT = SYMBOL_SUBJECT
EVENT_SESSIONS = 7
HORIZON = 20
ANALOGUES = 10
CORRELATION_WINDOW = DEFAULT_WINDOW  # the correlations pipeline's default window
CORRELATED = 5


@dataclass(frozen=True)
class BuyFacts:
    """What the analyst judges for "is X a buy?", from what was known on ``as_of``."""

    symbol: str
    as_of: date
    trend: dict
    window: dict
    peers: list[dict]
    peer_lead_20: float | None
    events: list[dict]
    analogues: dict
    correlated: list[dict] = field(default_factory=list)
    name: str | None = None
    sector: str | None = None
    price: dict | None = None

    def to_json(self) -> dict:
        """The facts as the analyst reads them (a list question's ``candidates``: none)."""
        return {**asdict(self), "as_of": self.as_of.isoformat(), "candidates": []}


def buy_facts(
    symbol: str,
    as_of: date,
    closes: np.ndarray,
    *,
    peers: Sequence[Mapping],
    peer_closes: Mapping[str, np.ndarray],
    events: Sequence[Mapping],
    outcomes: Sequence[float],
    correlated: Sequence[Mapping] = (),
    reference: Mapping | None = None,
    price: Mapping | None = None,
) -> BuyFacts:
    """The facts from ``symbol``'s closes up to ``as_of`` (the last is the as-of close), its competitors
    (``peers``: symbol, and what else is known of each) with their closes, the recent events' impact and
    sentiment, and the realised forward returns of the nearest earlier price patterns (``outcomes``)."""
    trend = trend_facts(closes)
    peer_rows = [{**p, "return_20": window_return(peer_closes.get(p["symbol"], np.array([])), 20)} for p in peers]
    peer_returns = [r["return_20"] for r in peer_rows if r["return_20"] is not None]
    forward = np.asarray(outcomes, dtype=float)
    analogues = {"count": len(forward), "horizon": HORIZON}
    if len(forward):
        analogues |= {
            "median": float(np.median(forward)),
            "p25": float(np.percentile(forward, 25)),
            "p75": float(np.percentile(forward, 75)),
            "hit_rate": float((forward > 0).mean()),
        }
    reference = reference or {}
    return BuyFacts(
        symbol=symbol,
        as_of=as_of,
        trend=trend,
        window=window_summary(closes[-31:]),
        peers=peer_rows,
        peer_lead_20=trend["return_20"] - float(np.median(peer_returns)) if peer_returns else None,
        events=[dict(e) for e in events],
        analogues=analogues,
        correlated=[dict(c) for c in correlated],
        name=reference.get("name"),
        sector=reference.get("sector"),
        price=dict(price) if price else None,
    )


def resolve(conn, subject, as_of, params: dict) -> Request:
    symbol = symbol_of(subject)
    session = session_of(conn, as_of, symbol)
    return Request(symbol, session.as_of, {"horizon": HORIZON}, newest=session.newest, since=session.first)


def gather(stores: Stores, rec: Recorder, request: Request) -> dict:
    symbol, as_of = request.subject, request.as_of
    conn = stores.conn

    since = request.since  # the MIN_HISTORY sessions a trend needs (the competitors' 20-session returns fewer)
    own = rec.read(
        "postgres",
        "closes up to the as-of session",
        ledger.prices.CLOSE_TABLE_SQL,
        {"symbols": [symbol], "since": since, "until": as_of},
        lambda: ledger.prices.close_table(conn, [symbol], since=since, until=as_of)[symbol].dropna(),
        lambda c: {"sessions": len(c), "last": c.index[-1].date(), "close": c.iloc[-1]},
    )
    window_start = own.index[-EVENT_SESSIONS - 1].date() if len(own) > EVENT_SESSIONS else own.index[0].date()

    # every other read needs at most these closes: begun at once, the slowest (Chroma) first
    similar = rec.begin(
        "chroma",
        f"similar past {HORIZON}-session scenarios",
        f"{vectors.PRICE_PATTERNS}.query(pattern of {symbol} to as_of, where epoch_day <= horizon cut-off)",
        {"symbol": symbol, "as_of": as_of, "k": ANALOGUES, "horizon": HORIZON},
        lambda: search.similar_price_patterns(
            conn, stores.chroma_client, symbol, as_of, k=ANALOGUES, horizon=HORIZON, closes=own
        ),
        lambda ms: [
            {
                "symbol": m.symbol,
                "window_end": m.window_end,
                "window_return": m.window_return,
                "window_volatility": m.window_volatility,
                "forward_return": m.forward_return,
                "distance": m.distance,
            }
            for m in ms
        ],
    )
    competitors = rec.begin(
        "neo4j",
        "competitors",
        graph.COMPETITORS,
        {"symbol": symbol},
        lambda: graph.read(stores.driver, graph.COMPETITORS, symbol=symbol),
    )
    recent = rec.begin(
        "neo4j",
        f"events in the {EVENT_SESSIONS} sessions to the as-of",
        graph.EVENTS_BETWEEN,
        {"symbol": symbol, "since": window_start, "until": as_of},
        lambda: graph.read(
            stores.driver, graph.EVENTS_BETWEEN, symbol=symbol, since=window_start.isoformat(), until=as_of.isoformat()
        ),
    )
    reference = rec.begin(
        "redis",
        "company reference (name, sector, industry)",
        f"GET {cache.company_metadata_key(symbol)}",
        {"symbol": symbol},
        lambda: cache.read_json(stores.redis_client, cache.company_metadata_key(symbol)) or {},
        lambda m: {k: m.get(k) for k in ("name", "sector", "industry")},  # classifications only: nothing dated
    )
    strongest = rec.begin(
        "postgres",
        f"strongest correlations (window {CORRELATION_WINDOW}) on or before the as-of",
        ledger.correlations.PAIRS_OF_SQL,
        {"symbol": symbol, "window": CORRELATION_WINDOW, "as_of": as_of, "limit": CORRELATED},
        lambda: ledger.correlations.pairs_of(conn, symbol, window=CORRELATION_WINDOW, as_of=as_of, limit=CORRELATED),
        lambda found: {"matrix": found[0], "pairs": found[1]},
    )
    track = rec.begin(
        "postgres",
        "track record of evaluated verdicts (outcomes ended by the as-of)",
        ledger.signals.TRACK_RECORD_SQL,
        {"kind": "buy", "as_of": as_of},
        lambda: ledger.signals.track_record(conn, "buy", as_of=as_of),
    )
    peers = competitors.result()
    others = sorted({p["symbol"] for p in peers} - {symbol})
    peer_closes = {}
    if others:
        table = read_closes(rec, conn, "competitors' closes up to the as-of session", others, since, as_of)
        peer_closes = {p: table[p].dropna().to_numpy(dtype=float) for p in others if p in table}

    if request.newest == as_of:  # Redis holds the newest session's close, nothing older
        quote = rec.read(
            "redis",
            "price",
            f"GET {cache.latest_price_key(symbol)}",
            {"symbol": symbol, "as_of": as_of},
            lambda: quotes.quote(stores.redis_client, symbol, as_of=as_of, newest=request.newest, closes=lambda: own),
            lambda q: {"close": q.close, "session": q.session, "source": q.source, "note": q.note},
        )
    else:
        quote = quotes.quote(None, symbol, as_of=as_of, newest=request.newest, closes=lambda: own)
    if quote.source == "ledger":
        rec.note(f"price from the {quote.note}")

    if not reference.result():
        rec.gap(f"Redis holds no {cache.company_metadata_key(symbol)} (expired, or the company graph has not run)")
    peer_info = []
    for p in peers:
        dated = p["snapshot"] is not None and date.fromisoformat(p["snapshot"]) <= as_of
        peer_info.append({"symbol": p["symbol"], "intensity": p["intensity"],
                          "market_cap_usd": p["market_cap_usd"] if dated else None})  # fmt: skip
    if peers and not any(r["market_cap_usd"] for r in peer_info):
        rec.note("competitors' market caps are from a snapshot dated after the as-of date, so no size rank is used")
    matrix_date, correlated = strongest.result()
    if matrix_date is None:
        rec.note(f"no correlation matrix on or before {as_of}: run the correlations pipeline for correlated peers")
    elif matrix_date < as_of:
        rec.note(f"correlated peers from the correlation matrix of {matrix_date}, the newest on or before {as_of}")
    matches = similar.result()
    if not matches:
        rec.gap(f"Chroma returned no past {HORIZON}-session scenario like {symbol}'s to {as_of}")
    facts = buy_facts(
        symbol,
        as_of,
        own.to_numpy(dtype=float),
        peers=peer_info,
        peer_closes=peer_closes,
        events=recent.result(),
        outcomes=[m.forward_return for m in matches],
        correlated=correlated,
        reference=reference.result(),
        price={"close": quote.close, "session": quote.session.isoformat(), "source": quote.source},
    )
    return {**facts.to_json(), "record": track.result()}


def judged(facts: dict, verdict) -> list[str]:
    """What the answer adds to the analyst's verdict: how verdicts of its label fared, in plain words."""
    label = verdict.label
    return [record_words(facts.get("record") or {}, label, "all", f"{label} verdicts", f"{HORIZON}-session return")]
