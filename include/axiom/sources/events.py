"""Market events from three sources, returned as raw rows for the events pipeline.

* ``fomc``: every change of the FOMC's federal funds target from 1990 through 2022 and the
  2022-01-26 hold (a sourced fixture of public facts, ``data/fomc.json``).
* ``price_move``: abnormal daily moves found in the ledger's own prices: a simple return r
  whose size exceeds k times the standard deviation of the ``window`` returns before it
  (z = r / sigma, |z| >= k). Real events derived from real data.
* ``yfinance_news``: live headlines from ``Ticker.news``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

FOMC_FIXTURE = Path(__file__).resolve().parents[1] / "data" / "fomc.json"


def fomc_decisions(start=None, end=None) -> list[dict]:
    data = json.loads(FOMC_FIXTURE.read_text())
    rows = []
    for d in data["decisions"]:
        day = pd.Timestamp(d["date"], tz="UTC")
        if (start and day < pd.Timestamp(start, tz="UTC")) or (end and day > pd.Timestamp(end, tz="UTC")):
            continue
        bp = d["change_bp"]
        verb = "holds" if bp == 0 else ("raises" if bp > 0 else "cuts")
        size = "" if bp == 0 else f" by {abs(bp)} basis points"
        low, high = d["target_low"], d["target_high"]
        target = f"{high:.2f}%" if low == high else f"{low:.2f}-{high:.2f}%"
        rows.append(
            {
                "source": "fomc",
                "source_id": d["date"],
                "symbol": None,
                "occurred_at": day,
                "title": f"FOMC {verb} the federal funds rate{size} to {target}",
                "summary": f"Federal Reserve rate decision of {d['date']}; source: {d['source']}.",
                "facts": {"change_bp": bp, "target_low": low, "target_high": high, "scheduled": d["scheduled"]},
            }
        )
    return rows


def trailing_zscores(closes: pd.DataFrame, window: int) -> pd.DataFrame:
    """Per symbol: simple return and its z against the std of the ``window`` returns before it."""
    out = []
    for symbol, group in closes.groupby("symbol", sort=True):
        g = group.sort_values("ts")
        r = g["close"].pct_change()
        sigma = r.shift(1).rolling(window, min_periods=window).std()
        out.append(pd.DataFrame({"symbol": symbol, "ts": g["ts"], "ret": r, "sigma": sigma, "z": r / sigma}))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=["symbol", "ts", "ret", "sigma", "z"])


def abnormal_moves(closes: pd.DataFrame, *, k: float, window: int, start=None, end=None) -> list[dict]:
    """Events for every daily return beyond k sigma of its trailing window."""
    z = trailing_zscores(closes, window)
    if z.empty:  # no closes in the span (a scheduled run over a week the ledger has no prices of)
        return []
    hits = z[np.isfinite(z["z"]) & (z["z"].abs() >= k)]
    if start is not None:
        hits = hits[hits["ts"] >= pd.Timestamp(start, tz="UTC")]
    if end is not None:
        hits = hits[hits["ts"] <= pd.Timestamp(end, tz="UTC")]
    rows = []
    for h in hits.itertuples(index=False):
        day = h.ts.date().isoformat()
        verb = "jumps" if h.ret > 0 else "falls"
        rows.append(
            {
                "source": "price_move",
                "source_id": f"{h.symbol}:{day}",
                "symbol": h.symbol,
                "occurred_at": h.ts,
                "title": f"{h.symbol} {verb} {abs(h.ret):.1%} on {day}",
                "summary": f"Daily return {h.ret:+.2%}, {h.z:+.1f} sigma against the previous {window} sessions "
                f"(sigma {h.sigma:.2%}).",
                "facts": {
                    "return": round(float(h.ret), 6),
                    "sigma": round(float(h.sigma), 6),
                    "z": round(float(h.z), 3),
                    "k": k,
                    "window": window,
                },
            }
        )
    return rows


def _published(content: dict):
    """When a news item was published: ISO text (``pubDate``) or epoch seconds (``providerPublishTime``)."""
    if content.get("pubDate"):
        return content["pubDate"]
    seconds = content.get("providerPublishTime")
    if isinstance(seconds, (int, float)) and not isinstance(seconds, bool):
        return pd.Timestamp(seconds, unit="s", tz="UTC")  # seconds, which pandas would read as nanoseconds
    return seconds


def yfinance_news(symbols: list[str]) -> list[dict]:
    """Recent headlines per symbol from Yahoo Finance (``Ticker.news``)."""
    import yfinance

    rows = []
    for symbol in symbols:
        for item in yfinance.Ticker(symbol).news or []:
            content = item.get("content", item)
            rows.append(
                {
                    "source": "yfinance_news",
                    "source_id": str(item.get("id") or content.get("id") or ""),
                    "symbol": symbol,
                    "occurred_at": _published(content),
                    "title": content.get("title") or "",
                    "summary": content.get("summary") or "",
                    "facts": {"publisher": (content.get("provider") or {}).get("displayName", "")},
                }
            )
    return rows
