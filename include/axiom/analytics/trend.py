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


def return_correlations(a: np.ndarray, others: np.ndarray, sessions: int) -> np.ndarray:
    """Pearson correlation of the last ``sessions`` daily simple returns of ``a`` with each column of ``others``
    (aligned sessions x series), over the sessions where both returns exist; NaN where fewer than 80% of them do,
    where either side is flat, or where the series are too short."""
    others = np.asarray(others, dtype=float).reshape(len(others), -1)
    out = np.full(others.shape[1], np.nan)
    if len(a) <= sessions:
        return out
    mine, theirs = np.asarray(a[-sessions - 1 :], dtype=float), others[-sessions - 1 :]
    ra = (mine[1:] / mine[:-1] - 1)[:, None]
    rb = theirs[1:] / theirs[:-1] - 1
    ok = np.isfinite(ra) & np.isfinite(rb)
    count = ok.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        dx = np.where(ok, ra - np.where(ok, ra, 0).sum(axis=0) / count, 0)
        dy = np.where(ok, rb - np.where(ok, rb, 0).sum(axis=0) / count, 0)
        sxx, syy = (dx * dx).sum(axis=0), (dy * dy).sum(axis=0)
        r = (dx * dy).sum(axis=0) / np.sqrt(sxx * syy)
    valid = (count >= 0.8 * sessions) & (sxx > 0) & (syy > 0)
    out[valid] = np.clip(r[valid], -1, 1)
    return out
