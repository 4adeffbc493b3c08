"""Price-pattern vectors: normalised windows of daily simple returns.

For each symbol, one window ends on the last trading day of every ISO week. The vector is the
``window`` simple returns r_t = close_t / close_{t-1} - 1 ending that day, z-scored
((r - mean) / population std), so cosine similarity compares the shape of the path, not its
scale. Windows with a constant return (std = 0) have no shape and are skipped. Ids are
deterministic: ``price_pattern:{symbol}:{ISO year}-W{ISO week}:{window}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

KIND = "price_pattern"
EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class PatternVectors:
    ids: list[str]
    embeddings: np.ndarray
    metadatas: list[dict]

    def __len__(self) -> int:
        return len(self.ids)


def zscore_rows(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Z-score each row; return the scored rows and a mask of rows that had any spread."""
    mean = matrix.mean(axis=1, keepdims=True)
    std = matrix.std(axis=1, keepdims=True)
    ok = (std[:, 0] > 1e-12) & np.isfinite(std[:, 0])
    scored = np.divide(matrix - mean, std, out=np.zeros_like(matrix), where=std > 1e-12)
    return scored, ok


def weekly_pattern_vectors(closes: pd.DataFrame, *, window: int = 30, start=None, end=None) -> PatternVectors:
    """Vectors for windows ending on each ISO week's last trading day, within [start, end].

    ``closes`` is a long frame (symbol, ts, close) sorted by symbol then ts; it must reach back
    ``window`` bars before ``start`` for the first windows to be complete.
    """
    ids: list[str] = []
    blocks: list[np.ndarray] = []
    metas: list[dict] = []
    for symbol, group in closes.groupby("symbol", sort=True):
        prices = group["close"].to_numpy(dtype=float)
        ts = pd.DatetimeIndex(group["ts"])
        if len(prices) <= window:
            continue
        returns = prices[1:] / prices[:-1] - 1.0
        ends = ts[1:]
        windows = sliding_window_view(returns, window)  # windows[i] ends at ends[i + window - 1]
        end_ts = ends[window - 1 :]
        iso = end_ts.isocalendar()
        week_key = (iso["year"].astype(int) * 100 + iso["week"].astype(int)).to_numpy()
        last_of_week = np.append(week_key[1:] != week_key[:-1], True)
        keep = last_of_week.copy()
        if start is not None:
            keep &= end_ts >= pd.Timestamp(start, tz="UTC")
        if end is not None:
            keep &= end_ts <= pd.Timestamp(end, tz="UTC")
        scored, spread = zscore_rows(windows[keep])
        scored = scored[spread]
        kept_ts = end_ts[keep][spread]
        kept_iso = iso[keep][spread]
        blocks.append(scored)
        for when, year, week in zip(kept_ts, kept_iso["year"], kept_iso["week"], strict=True):
            ids.append(f"{KIND}:{symbol}:{year}-W{week:02d}:{window}")
            metas.append(
                {
                    "type": KIND,
                    "symbol": symbol,
                    "as_of": when.date().isoformat(),
                    "epoch_day": (when.date() - EPOCH).days,
                    "window": window,
                    "returns": "simple",
                }
            )
    embeddings = np.vstack(blocks) if blocks else np.empty((0, window))
    return PatternVectors(ids, embeddings, metas)
