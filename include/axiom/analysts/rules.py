"""The rule-based analyst: deterministic, offline, and documented here rule by rule.

* Competitors: the other companies of the same industry; when a company is alone in its
  industry, those of its sector. Intensity grows with market-cap proximity (ratio r = smaller /
  larger cap): 0.5 + 0.5·r within an industry, 0.2 + 0.3·r across a sector. Top five kept.
* Event type: the first keyword rule that matches the title and summary (``TYPE_RULES``, in
  order); events derived from prices are ``price_move``; otherwise ``other``.
* Impact, from the event's own measured size: a price move of z sigma scores min(1, |z| / 8);
  a rate decision of b basis points scores min(1, (|b| + 25) / 100) (a hold still scores 0.25);
  text-only news scores 0.3.
* Sentiment: the sign and size of a price move (z / 8, clipped); a rate hike is negative for
  equities (-b / 100, clipped), a cut positive; news counts positive minus negative words.
* Correlation explanations name the facts the two companies share: industry, sector, or neither.

Answers to users' questions (``answer``), from the facts the insight gathered, rule by rule:

* **Is X a buy?** Six signals, each +1, 0 or -1 (peers ±0.5): trend (close > SMA20 > SMA60: +1;
  close < SMA20 < SMA60: -1); momentum (60-session return beyond ±5%); analogues (median forward
  return of at least 5 similar past windows beyond ±1%, with a hit rate of at least 55% for +1 or
  at most 45% for -1); events (sum of impact × sentiment over the last 7 sessions beyond ±0.2);
  risk (-1 when the close is more than 20% below its 60-session high and 20-session volatility is
  above 50% a year); peers (±0.5 when the 20-session return leads or trails the competitors'
  median by more than 2 points). BUY at a total of +2 or more, SELL at -2 or less, HOLD between;
  confidence 0.5 + 0.1 per point of |total|, at most 0.95.
* **Sector rotation.** Each sector's score is its 20-session return relative to the universe
  minus a third of its 60-session relative return: positive means relative strength arriving
  faster than the longer trend explains. Sectors are ranked by score; "rotating into strength"
  are those with a positive score and a positive 20-session relative return.
* **Risk cascade.** Companies are ranked by their mean return over the 5 sessions after past
  rate hikes (most negative first: most exposed), ties broken by the decision's measured sector
  sensitivity; debt-to-equity is shown as reference, not scored.
* **Stocks like X.** Score = 0.45 × (1 - description distance) + 0.25 × competition intensity
  (0.10 for the same sector without a competition edge) + 0.30 × max(0, 60-session return
  correlation). The five best are ranked.
"""

from __future__ import annotations

import re

from axiom.analysts.base import (
    Classification,
    Competitor,
    Verdict,
    check_classification,
    check_competitors,
    check_insight,
)
from axiom.models import Company, EventInput

TYPE_RULES: list[tuple[str, re.Pattern]] = [
    (t, re.compile(p, re.IGNORECASE))
    for t, p in [
        ("fed_decision", r"\bfomc\b|federal reserve|federal funds|\bfed\b|rate (hike|cut|decision)"),
        ("merger", r"\bmerger|\bacquir|acquisition|takeover|buyout|\bto buy\b"),
        ("earnings", r"earnings|quarterly results|\beps\b|profit|revenue (beat|miss)"),
        ("guidance", r"guidance|outlook|forecast"),
        ("legal", r"lawsuit|settle|\bsec\b|investigation|court|antitrust|\bfine[sd]?\b"),
        ("product", r"launch|unveil|new product|\bfda\b|approval|release"),
        ("macro", r"inflation|\bcpi\b|\bgdp\b|jobs report|payrolls|unemployment|recession|tariff"),
    ]
]
POSITIVE = re.compile(r"\b(beat|beats|surge|soar|jump|record|upgrade|approval|gain|rise|rally)", re.IGNORECASE)
NEGATIVE = re.compile(r"\b(miss|plunge|fall|drop|cut|downgrade|lawsuit|probe|recall|loss|slump|warn)", re.IGNORECASE)


def _clip(x: float, low: float, high: float) -> float:
    return max(low, min(high, x))


class RuleBasedAnalyst:
    """Judgement from shared facts, keyword rules and measured sizes; no network, same answer every time."""

    name = "rules"
    model = "rules"
    prompt_version = "rules-2"

    def competitors(self, company: Company, universe: list[Company]) -> list[Competitor]:
        others = [c for c in universe if c.symbol != company.symbol]
        same_industry = [c for c in others if c.industry == company.industry]
        peers, base, span, shared = (
            (same_industry, 0.5, 0.5, f"both in {company.industry}")
            if same_industry
            else ([c for c in others if c.sector == company.sector], 0.2, 0.3, f"both in the {company.sector} sector")
        )
        answer = []
        for peer in peers:
            ratio = _cap_ratio(company, peer)
            answer.append(
                {
                    "symbol": peer.symbol,
                    "intensity": round(base + span * ratio, 4),
                    "rationale": f"{company.symbol} and {peer.symbol} are {shared}; market-cap ratio {ratio:.2f}",
                }
            )
        return check_competitors(answer, company, universe)[:5]

    def classify_event(self, event: EventInput) -> Classification:
        text = f"{event.title} {event.summary}"
        facts = event.facts or {}
        if event.source == "price_move" or "z" in facts:
            event_type = "price_move"
        else:
            event_type = next((t for t, pattern in TYPE_RULES if pattern.search(text)), "other")
        if "z" in facts:
            z = float(facts["z"])
            impact, sentiment = min(1.0, abs(z) / 8), _clip(z / 8, -1, 1)
            why = f"a {z:+.1f} sigma daily move"
        elif "change_bp" in facts:
            bp = float(facts["change_bp"])
            impact, sentiment = min(1.0, (abs(bp) + 25) / 100), _clip(-bp / 100, -1, 1)
            why = f"a {bp:+.0f} bp change in the policy rate"
        else:
            score = len(POSITIVE.findall(text)) - len(NEGATIVE.findall(text))
            impact, sentiment = 0.3, _clip(score / 3, -1, 1)
            why = "text only: keyword rules"
        answer = {
            "event_type": event_type,
            "impact": round(impact, 4),
            "sentiment": round(sentiment, 4),
            "rationale": f"{event_type} by rule; {why}",
        }
        return check_classification(answer)

    def explain_correlation(self, a: Company, b: Company, direction: int, window: int) -> str:
        if a.industry == b.industry:
            shared = f"both are {a.industry} companies in {a.sector}, exposed to the same demand and costs"
        elif a.sector == b.sector:
            shared = f"both are in the {a.sector} sector ({a.industry}; {b.industry})"
        else:
            shared = (
                f"they share no industry or sector ({a.sector}; {b.sector}): broad market moves are the likely link"
            )
        moved = "move together" if direction >= 0 else "move in opposite directions"
        return f"{a.symbol} and {b.symbol} {moved} over {window}-session windows: {shared}."

    def answer(self, question: str, facts: dict) -> Verdict:
        answer = {"buy": _buy, "rotation": _rotation, "cascade": _cascade, "like": _like}[question](facts)
        return check_insight(answer, question, facts.get("candidates", []))


def _signal(value: float | None, high: float, low: float) -> int:
    if value is None:
        return 0
    return 1 if value > high else (-1 if value < low else 0)


def _buy_signals(f: dict) -> list[tuple[str, float]]:
    """The buy rules' signals that fired, each with its text and its +1 / -1 (peers +-0.5)."""
    t, a = f["trend"], f.get("analogues") or {}
    signals: list[tuple[str, float]] = []
    if t["close"] > t["sma20"] > t["sma60"]:
        signals.append((f"uptrend: close {t['close']:.2f} above its 20- and 60-session averages", 1))
    elif t["close"] < t["sma20"] < t["sma60"]:
        signals.append((f"downtrend: close {t['close']:.2f} below its 20- and 60-session averages", -1))
    m = _signal(t["return_60"], 0.05, -0.05)
    if m:
        signals.append((f"60-session momentum {t['return_60']:+.1%}", m))
    if a.get("count", 0) >= 5:
        hit = a["hit_rate"]
        if a["median"] > 0.01 and hit >= 0.55:
            signals.append(
                (f"{a['count']} similar past windows then rose a median {a['median']:+.1%} ({hit:.0%} up)", 1)
            )
        elif a["median"] < -0.01 and hit <= 0.45:
            signals.append(
                (f"{a['count']} similar past windows then fell a median {a['median']:+.1%} ({hit:.0%} up)", -1)
            )
    net = sum(e["impact"] * e["sentiment"] for e in f.get("events", []) if e.get("impact") is not None)
    e = _signal(net, 0.2, -0.2)
    if e:
        signals.append((f"recent events net impact x sentiment {net:+.2f}", e))
    if t["drawdown_60"] < -0.20 and t["volatility_20"] > 0.50:
        signals.append(
            (f"stress: {t['drawdown_60']:.0%} below the 60-session high at {t['volatility_20']:.0%} vol", -1)
        )
    lead = f.get("peer_lead_20")
    p = _signal(lead, 0.02, -0.02) * 0.5
    if p:
        signals.append((f"20-session return {'leads' if p > 0 else 'trails'} competitors by {abs(lead):.1%}", p))
    return signals


def buy_score(facts: dict) -> float:
    """The buy rules' total (BUY at +2 or more, SELL at -2 or less): the numeric ranking the evaluation scores
    as a factor."""
    return float(sum(v for _, v in _buy_signals(facts)))


def _buy(f: dict) -> dict:
    signals = _buy_signals(f)
    total = sum(v for _, v in signals)
    label = "BUY" if total >= 2 else ("SELL" if total <= -2 else "HOLD")
    reasons = [f"{text} ({v:+g})" for text, v in signals] or ["no signal stands out"]
    reasons.append(f"rule total {total:+.1f}: BUY at +2 or more, SELL at -2 or less")
    if f.get("correlated"):
        top = ", ".join(f"{c['symbol']} {c['coefficient']:+.2f}" for c in f["correlated"][:3])
        reasons.append(f"moves most with {top} ({f['correlated'][0]['window']}-session return correlation; not scored)")
    return {
        "label": label,
        "confidence": round(min(0.95, 0.5 + 0.1 * abs(total)), 2),
        "ranking": [],
        "reasons": reasons,
    }


def _rotation(f: dict) -> dict:
    ranked = sorted(f["sectors"], key=lambda s: -s["score"])
    rising = [s["sector"] for s in ranked if s["score"] > 0 and s["rs_20"] > 0]
    fading = [s["sector"] for s in reversed(ranked) if s["score"] < 0 and s["rs_20"] < 0]
    reasons = [
        f"rotating into strength: {', '.join(rising) or 'none'}",
        f"losing relative strength: {', '.join(fading) or 'none'}",
    ]
    a = f.get("analogues") or {}
    if a.get("count"):
        reasons.append(
            f"in {a['count']} similar past month-end profiles the leading sector then returned a median "
            f"{a['median']:+.1%} relative to the universe over {a['horizon']} sessions"
        )
    return {
        "label": "RANKED",
        "confidence": 0.6,
        "ranking": [
            {
                "name": s["sector"],
                "score": round(s["score"], 6),
                "reason": f"20-session relative return {s['rs_20']:+.1%}, 60-session {s['rs_60']:+.1%}",
            }
            for s in ranked
        ],
        "reasons": reasons,
    }


def _cascade(f: dict) -> dict:
    rows = [c for c in f["companies"] if c.get("next5_mean") is not None]
    ranked = sorted(rows, key=lambda c: (c["next5_mean"], -(c.get("sensitivity") or 0)))
    reasons = [f"{f['hikes']} earlier rate hikes measured, {len(rows)} companies reached through the graph"]
    if ranked:
        reasons.append(f"most exposed: {ranked[0]['symbol']}; least: {ranked[-1]['symbol']}")
    return {
        "label": "RANKED",
        "confidence": 0.55 if f["hikes"] >= 5 else 0.35,
        "ranking": [
            {
                "name": c["symbol"],
                "score": round(-c["next5_mean"], 6),
                "reason": f"mean {c['next5_mean']:+.2%} over 5 sessions after {c['hikes']} hikes "
                f"({c['down_share']:.0%} down), {c['hike_day_mean']:+.2%} on the day"
                + (
                    f"; debt/equity {c['debt_to_equity']:.2f} (reference)"
                    if c.get("debt_to_equity") is not None
                    else ""
                ),
            }
            for c in ranked
        ],
        "reasons": reasons,
    }


def _like(f: dict) -> dict:
    scored = []
    for c in f["candidates_facts"]:
        graph = c["competition"] if c["competition"] else (0.10 if c["same_sector"] else 0.0)
        score = 0.45 * (1 - c["description_distance"]) + 0.25 * graph + 0.30 * max(0.0, c["coefficient"] or 0.0)
        why = [f"description distance {c['description_distance']:.2f}"]
        if c["competition"]:
            why.append(f"competes (intensity {c['competition']:.2f})")
        elif c["same_sector"]:
            why.append("same sector")
        if c["coefficient"] is not None:
            why.append(f"60-session correlation {c['coefficient']:+.2f}")
        scored.append({"name": c["symbol"], "score": round(score, 6), "reason": ", ".join(why)})
    ranked = sorted(scored, key=lambda r: -r["score"])[:5]
    reasons = [f"{r['name']}: {r['reason']}" for r in ranked[:3]] or ["no candidate found"]
    return {"label": "RANKED", "confidence": 0.6, "ranking": ranked, "reasons": reasons}


def _cap_ratio(a: Company, b: Company) -> float:
    if not a.market_cap_usd or not b.market_cap_usd:
        return 0.0
    return min(a.market_cap_usd, b.market_cap_usd) / max(a.market_cap_usd, b.market_cap_usd)
