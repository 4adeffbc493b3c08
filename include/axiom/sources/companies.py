"""Company fundamentals: a sourced JSON fixture offline, ``yfinance`` ``Ticker.info`` live, and the
simulated companies of the synthetic universe (``axiom.sources.synthetic``, scale tests only).

Both return raw rows (dicts) with symbol, name, sector, industry, description, market_cap_usd,
debt_to_equity, as_of and source; validation happens in the pipeline, alike for both.
"""

from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path

from axiom.config import Settings
from axiom.sources import synthetic

log = logging.getLogger(__name__)

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "companies.json"


def offline_fundamentals(symbols: list[str] | None = None) -> list[dict]:
    """The fixture's companies (public facts, sources named in the file)."""
    data = json.loads(FIXTURE.read_text())
    rows = [{**c, "as_of": data["as_of"], "source": "fixture: " + data["source"]} for c in data["companies"]]
    if symbols:
        wanted = set(symbols)
        rows = [r for r in rows if r["symbol"] in wanted]
        missing = wanted - {r["symbol"] for r in rows}
        if missing:
            log.warning("no offline fundamentals for %s", sorted(missing))
    return rows


def yfinance_fundamentals(symbols: list[str]) -> list[dict]:
    """Today's ``Ticker.info`` for each symbol; debtToEquity is reported in percent by Yahoo."""
    import yfinance

    rows = []
    for symbol in symbols:
        info = yfinance.Ticker(symbol).info or {}
        d2e = info.get("debtToEquity")
        rows.append(
            {
                "symbol": symbol,
                "name": info.get("longName") or info.get("shortName"),
                "sector": info.get("sector"),
                "industry": info.get("industry"),
                "description": info.get("longBusinessSummary"),
                "market_cap_usd": info.get("marketCap"),
                "debt_to_equity": round(d2e / 100, 4) if isinstance(d2e, (int, float)) else None,
                "as_of": date.today().isoformat(),
                "source": "yfinance Ticker.info",
            }
        )
    return rows


def fetch_fundamentals(provider: str, symbols: list[str] | None) -> list[dict]:
    if provider == "offline":
        return offline_fundamentals(symbols)
    if provider == "yfinance":
        return yfinance_fundamentals(symbols or [r["symbol"] for r in offline_fundamentals()])
    if provider == "synthetic":
        return synthetic.read_companies(Settings.from_env().synthetic_dir, symbols)
    raise ValueError(f"unknown fundamentals provider {provider!r}; choose offline, yfinance or synthetic")
