"""Rolling correlation of daily returns.

* Returns: simple daily returns r_t = close_t / close_{t-1} - 1, per symbol, on the calendar of
  sessions any symbol traded (a symbol's missing session leaves a gap, never a filled value).
* Window: the last ``window`` sessions of that calendar ending on the as-of date.
* Estimator: Pearson's sample correlation over the sessions where both symbols have a return
  (pairwise-complete). Pairs with fewer than ``min_observations`` such sessions are skipped and
  reported, not guessed.

A backfill slices one aligned return matrix at each date, so history is read once however many
dates are computed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class CorrelationMatrix:
    as_of: pd.Timestamp
    window: int
    symbols: list[str]
    coefficients: np.ndarray  # n x n, NaN where a pair was skipped
    observations: np.ndarray  # n x n sessions both symbols had a return

    def pairs(self, *, min_observations: int):
        """(a, b, coefficient, observations) for a < b; skipped pairs as (a, b, None, observations)."""
        for i, a in enumerate(self.symbols):
            for j in range(i + 1, len(self.symbols)):
                n = int(self.observations[i, j])
                r = self.coefficients[i, j]
                yield a, self.symbols[j], (float(r) if n >= min_observations and np.isfinite(r) else None), n


def returns_matrix(closes: pd.DataFrame) -> pd.DataFrame:
    """Aligned simple returns (sessions x symbols) from a long (symbol, ts, close) frame."""
    prices = closes.pivot(index="ts", columns="symbol", values="close").sort_index()
    returns = prices.pct_change(fill_method=None)
    return returns.iloc[1:]


def pairwise_corr(block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pearson correlation and observation counts of every column pair, over rows where both are finite."""
    valid = np.isfinite(block)
    n = valid.astype(float).T @ valid.astype(float)
    if valid.all():
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.corrcoef(block, rowvar=False), n
    out = np.full((block.shape[1], block.shape[1]), np.nan)
    for i in range(block.shape[1]):
        for j in range(i, block.shape[1]):
            both = valid[:, i] & valid[:, j]
            if both.sum() >= 2:
                x, y = block[both, i], block[both, j]
                with np.errstate(invalid="ignore", divide="ignore"):
                    out[i, j] = out[j, i] = np.corrcoef(x, y)[0, 1]
    return out, n


def correlation_at(returns: pd.DataFrame, as_of, window: int) -> CorrelationMatrix:
    """The matrix for the ``window`` sessions ending on the last session at or before ``as_of``."""
    end = returns.index.searchsorted(pd.Timestamp(as_of), side="right")
    block = returns.iloc[max(0, end - window) : end]
    coefficients, observations = pairwise_corr(block.to_numpy(dtype=float))
    return CorrelationMatrix(
        block.index[-1] if len(block) else pd.Timestamp(as_of),
        window,
        list(returns.columns),
        coefficients,
        observations,
    )


def month_ends(index: pd.DatetimeIndex, start=None, end=None) -> list[pd.Timestamp]:
    """The last session of each calendar month in ``index`` within [start, end]."""
    sessions = pd.Series(index, index=index)
    if start is not None:
        sessions = sessions[sessions >= pd.Timestamp(start, tz=index.tz)]
    if end is not None:
        sessions = sessions[sessions <= pd.Timestamp(end, tz=index.tz)]
    return list(sessions.groupby([sessions.dt.year, sessions.dt.month]).max())
