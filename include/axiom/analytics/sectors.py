"""Sector momentum: equal-weight sector returns, relative strength, and a rotation score.

At a session, each symbol's simple return over h sessions (h in 1, 5, 20, 60) is averaged with
equal weights within its sector; the universe's return is the equal-weight mean over all
symbols. Relative strength ``rs_h`` is the sector's return minus the universe's. The rotation
score ``rs_20 - rs_60 / 3`` is positive when a sector gains relative strength faster than its
60-session trend explains (strength arriving), negative when it is leaving.

A *profile* is the vector of every GICS sector's ``rs_h`` (sectors in a fixed order, then horizons),
so similar profiles are similar states of the whole market's sector rotation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

HORIZONS = (1, 5, 20, 60)
# the eleven GICS sectors: a fixed order, so profiles of any universe share one dimension
GICS_SECTORS = (
    "Communication Services",
    "Consumer Discretionary",
    "Consumer Staples",
    "Energy",
    "Financials",
    "Health Care",
    "Industrials",
    "Information Technology",
    "Materials",
    "Real Estate",
    "Utilities",
)


COLUMNS = (*(f"r_{h}" for h in HORIZONS), *(f"rs_{h}" for h in HORIZONS), "score", "members")


def sector_history(closes: pd.DataFrame, sectors: dict[str, str]) -> pd.DataFrame:
    """Per session and sector of ``closes`` (sessions x symbols): r_h, rs_h, score and members (the
    symbols with a close that session), for every session with ``max(HORIZONS)`` sessions before it.

    Returns over h sessions are positional (h rows back), so one vectorised pass gives what
    ``sector_table`` would give at each session; a long frame indexed by (session, sector).
    """
    members = [s for s in closes.columns if s in sectors]
    if not members or len(closes) <= max(HORIZONS):
        empty = pd.MultiIndex.from_arrays([pd.DatetimeIndex([], tz="UTC"), []], names=["session", "sector"])
        return pd.DataFrame(columns=list(COLUMNS), index=empty).astype({"members": int})
    frame = closes[members].sort_index()
    groups = pd.Series({s: sectors[s] for s in members})
    out = {}
    for h in HORIZONS:
        returns = frame / frame.shift(h) - 1
        by_sector = returns.T.groupby(groups).mean().T
        out[f"r_{h}"] = by_sector
        out[f"rs_{h}"] = by_sector.sub(returns.mean(axis=1), axis=0)
    out["score"] = out["rs_20"] - out["rs_60"] / 3
    out["members"] = frame.notna().T.groupby(groups).sum().T
    long = pd.concat({k: v.iloc[max(HORIZONS) :].stack(future_stack=True) for k, v in out.items()}, axis=1)
    long.index.names = ["session", "sector"]
    return long.loc[:, list(COLUMNS)].astype({"members": int})


def sector_table(closes: pd.DataFrame, sectors: dict[str, str]) -> pd.DataFrame:
    """Per sector at the last session of ``closes`` (sessions x symbols): r_h, rs_h, score, members."""
    if len(closes) <= max(HORIZONS) or not any(s in sectors for s in closes.columns):
        raise ValueError(f"sector momentum needs {max(HORIZONS) + 1} sessions of sector members' closes")
    last = closes.sort_index().index[-1]
    return sector_history(closes.iloc[-max(HORIZONS) - 1 :], sectors).xs(last, level="session").sort_index()


def profile(table: pd.DataFrame) -> np.ndarray:
    """The rotation state as one vector: rs_h of every GICS sector in order (0 for a sector with no member)."""
    rs = table.reindex(list(GICS_SECTORS))[[f"rs_{h}" for h in HORIZONS]].fillna(0.0)
    return rs.to_numpy(dtype=float).ravel()


def rotation_pairs(table: pd.DataFrame, k: int = 2) -> list[dict]:
    """From each of the ``k`` sectors losing relative strength fastest to each of the ``k`` gaining it fastest."""
    ranked = table.sort_values("score")
    losing = [s for s in ranked.index[:k] if ranked.loc[s, "score"] < 0]
    gaining = [s for s in ranked.index[::-1][:k] if ranked.loc[s, "score"] > 0]
    return [
        {"source": a, "target": b, "strength": round(float(table.loc[b, "score"] - table.loc[a, "score"]), 6)}
        for a in losing
        for b in gaining
    ]
