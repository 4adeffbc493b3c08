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
"""

from __future__ import annotations

import re

from axiom.analysts.base import Classification, Competitor, check_classification, check_competitors
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
    prompt_version = "rules-1"

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

    def explain_correlation(self, a: Company, b: Company, coefficient: float, context: dict) -> str:
        window = context.get("window", "the")
        if a.industry == b.industry:
            shared = f"both are {a.industry} companies in {a.sector}, exposed to the same demand and costs"
        elif a.sector == b.sector:
            shared = f"both are in the {a.sector} sector ({a.industry}; {b.industry})"
        else:
            shared = (
                f"they share no industry or sector ({a.sector}; {b.sector}): broad market moves are the likely link"
            )
        direction = "moved together" if coefficient >= 0 else "moved in opposite directions"
        return f"{a.symbol} and {b.symbol} {direction} (r = {coefficient:+.2f} over {window} sessions): {shared}."


def _cap_ratio(a: Company, b: Company) -> float:
    if not a.market_cap_usd or not b.market_cap_usd:
        return 0.0
    return min(a.market_cap_usd, b.market_cap_usd) / max(a.market_cap_usd, b.market_cap_usd)
