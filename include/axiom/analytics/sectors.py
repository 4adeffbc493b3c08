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


def sector_table(closes: pd.DataFrame, sectors: dict[str, str]) -> pd.DataFrame:
    """Per sector at the last session of ``closes`` (sessions x symbols): r_h, rs_h, score, members."""
    members = [s for s in closes.columns if s in sectors]
    if len(closes) <= max(HORIZONS) or not members:
        raise ValueError(f"sector momentum needs {max(HORIZONS) + 1} sessions of sector members' closes")
    last = closes[members].iloc[-1]
    rows = {}
    for h in HORIZONS:
        rows[f"r_{h}"] = last / closes[members].iloc[-1 - h] - 1
    per_symbol = pd.DataFrame(rows)
    per_symbol["sector"] = [sectors[s] for s in per_symbol.index]
    table = per_symbol.groupby("sector").mean()
    universe = per_symbol.drop(columns="sector").mean()
    for h in HORIZONS:
        table[f"rs_{h}"] = table[f"r_{h}"] - universe[f"r_{h}"]
    table["score"] = table["rs_20"] - table["rs_60"] / 3
    table["members"] = per_symbol.groupby("sector").size()
    return table.sort_index()


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
