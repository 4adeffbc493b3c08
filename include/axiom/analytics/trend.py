"""Trend facts of one price series, the way an analyst reads a chart.

Over the closes up to the as-of session: the close against its 5/20/60-session simple moving
averages, simple returns over 5/20/60 sessions, 20-session realised volatility (population std of
daily simple returns × √252) and the drawdown from the 60-session high (close / max - 1).
"""

from __future__ import annotations

import math

import numpy as np

HORIZONS = (5, 20, 60)
TRADING_DAYS = 252


def trend_facts(closes: np.ndarray) -> dict:
    """The trend facts of a series whose last element is the as-of close; needs at least 61 closes."""
    if len(closes) < 61:
        raise ValueError(f"a trend needs at least 61 sessions, got {len(closes)}")
    close = float(closes[-1])
    returns = closes[1:] / closes[:-1] - 1
    facts = {"close": close, "sessions": len(closes)}
    for h in HORIZONS:
        facts[f"sma{h}"] = float(closes[-h:].mean())
        facts[f"return_{h}"] = close / float(closes[-h - 1]) - 1
    facts["volatility_20"] = float(returns[-20:].std() * math.sqrt(TRADING_DAYS))
    facts["drawdown_60"] = close / float(closes[-60:].max()) - 1
    return facts


def window_return(closes: np.ndarray, sessions: int) -> float | None:
    """The simple return over the last ``sessions`` sessions (None when the series is too short)."""
    return None if len(closes) <= sessions else float(closes[-1] / closes[-sessions - 1] - 1)


def return_correlation(a: np.ndarray, b: np.ndarray, sessions: int) -> float | None:
    """Pearson correlation of the last ``sessions`` daily simple returns of two aligned series."""
    if len(a) <= sessions or len(b) <= sessions:
        return None
    ra = a[-sessions - 1 :][1:] / a[-sessions - 1 :][:-1] - 1
    rb = b[-sessions - 1 :][1:] / b[-sessions - 1 :][:-1] - 1
    ok = np.isfinite(ra) & np.isfinite(rb)
    if ok.sum() < 0.8 * sessions or ra[ok].std() == 0 or rb[ok].std() == 0:
        return None
    return float(np.corrcoef(ra[ok], rb[ok])[0, 1])
