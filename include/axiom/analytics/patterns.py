"""Price-pattern vectors: what a window of prices looked like, the way an analyst reads a chart.

For each symbol, one window ends on the last trading day of every ISO week: the ``window`` + 1
closes p_0 … p_W ending that day (W = 30 by default). Its vector keeps the size of the moves and
the volatility, so a crash finds crash-like windows and a quiet rise finds quiet rises:

* the path: log(p_t / p_0) at six evenly spaced points t = W/6 … W, divided by ``PATH_SCALE``
  (0.10: a 10% move is one unit);
* volatility at three scales: the annualised standard deviation of the last 5, 10 and W daily log
  returns, divided by ``VOL_SCALE`` (0.20: 20% a year is one unit);
* the deepest drawdown (p_t / running max - 1) and the largest run-up (p_t / running min - 1)
  within the window, divided by ``PATH_SCALE``.

Fixed scales, not per-window z-scores, so distances mean the same across symbols and eras; the
collection compares vectors by Euclidean distance (``SPACE``). Windows whose returns are all equal
(stale prices) carry no information and are skipped. Ids are deterministic:
``price_pattern:{symbol}:{ISO year}-W{ISO week}:{window}``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from axiom.calendar import epoch_day

KIND = "price_pattern"
REPRESENTATION = "path-vol-drawdown-v1"
SPACE = "l2"
PATH_SCALE = 0.10
VOL_SCALE = 0.20
PATH_POINTS = 6
VOL_SCALES = (5, 10)  # and the whole window
TRADING_DAYS = 252
ID = re.compile(rf"^{KIND}:[^:]+:(\d{{4}})-W(\d{{2}}):(\d+)$")


@dataclass(frozen=True)
class PatternVectors:
    ids: list[str]
    embeddings: np.ndarray
    metadatas: list[dict]

    def __len__(self) -> int:
        return len(self.ids)


def _features(prices: np.ndarray) -> np.ndarray:
    """Vectors of price windows (rows of ``window`` + 1 closes), as the module docstring defines."""
    window = prices.shape[1] - 1
    logs = np.log(prices / prices[:, :1])
    points = np.linspace(window / PATH_POINTS, window, PATH_POINTS).round().astype(int)
    path = logs[:, points] / PATH_SCALE
    steps = np.diff(logs, axis=1)
    vols = [steps[:, -n:].std(axis=1) * math.sqrt(TRADING_DAYS) / VOL_SCALE for n in (*VOL_SCALES, window)]
    drawdown = (prices / np.maximum.accumulate(prices, axis=1) - 1).min(axis=1) / PATH_SCALE
    runup = (prices / np.minimum.accumulate(prices, axis=1) - 1).max(axis=1) / PATH_SCALE
    return np.column_stack([path, *vols, drawdown, runup])


def _informative(prices: np.ndarray) -> np.ndarray:
    """Rows with finite, positive prices whose daily returns are not all equal."""
    returns = prices[:, 1:] / prices[:, :-1] - 1
    finite = np.isfinite(prices).all(axis=1) & (prices > 0).all(axis=1)
    return finite & (np.nan_to_num(returns.std(axis=1)) > 1e-12)


def pattern_vector(prices: np.ndarray, window: int = 30) -> np.ndarray | None:
    """The vector of the window ending at the last price, from its last ``window`` + 1 closes (None: no shape)."""
    if len(prices) <= window:
        return None
    block = np.asarray(prices[-window - 1 :], dtype=float)[None, :]
    return _features(block)[0] if _informative(block)[0] else None


def window_week(record_id: str) -> tuple[int, date] | None:
    """The window and the Monday of the ISO week a pattern id names (its window ends in that week); None if
    ``record_id`` is not a pattern id. Lets a reader rule records out by id alone, before reading metadata."""
    found = ID.match(record_id)
    if found is None:
        return None
    year, week, window = map(int, found.groups())
    return window, date.fromisocalendar(year, week, 1)


def window_summary(prices: np.ndarray) -> dict:
    """The plain numbers of a price window: total return, annualised volatility, deepest drawdown."""
    prices = np.asarray(prices, dtype=float)
    steps = np.diff(np.log(prices))
    return {
        "return": float(prices[-1] / prices[0] - 1),
        "volatility": float(steps.std() * math.sqrt(TRADING_DAYS)),
        "drawdown": float((prices / np.maximum.accumulate(prices) - 1).min()),
    }


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
        windows = sliding_window_view(prices, window + 1)  # windows[i] ends at ts[i + window]
        end_ts = ts[window:]
        iso = end_ts.isocalendar()
        week_key = (iso["year"].astype(int) * 100 + iso["week"].astype(int)).to_numpy()
        keep = np.append(week_key[1:] != week_key[:-1], True)
        if start is not None:
            keep &= end_ts >= pd.Timestamp(start, tz="UTC")
        if end is not None:
            keep &= end_ts <= pd.Timestamp(end, tz="UTC")
        chosen = windows[keep]
        useful = _informative(chosen)
        blocks.append(_features(chosen[useful]) if useful.any() else np.empty((0, PATH_POINTS + 5)))
        weeks = zip(
            end_ts[keep][useful], iso[keep]["year"][useful], iso[keep]["week"][useful], chosen[useful], strict=True
        )
        for when, year, week, block in weeks:
            ids.append(f"{KIND}:{symbol}:{year}-W{week:02d}:{window}")
            summary = window_summary(block)
            metas.append(
                {
                    "type": KIND,
                    "symbol": symbol,
                    "as_of": when.date().isoformat(),
                    "epoch_day": epoch_day(when.date()),
                    "window": window,
                    "representation": REPRESENTATION,
                    **{f"window_{k}": round(v, 6) for k, v in summary.items()},
                }
            )
    embeddings = np.vstack(blocks) if blocks else np.empty((0, PATH_POINTS + 5))
    return PatternVectors(ids, embeddings, metas)
