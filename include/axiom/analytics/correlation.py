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
    observations: np.ndarray  # n x n sessions both symbols had a return (read-only)

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


def _gapped_corr(block: np.ndarray, missing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pearson correlation and observation counts of every column pair of a window with gaps
    (``missing``: non-finite rows per column), over the rows where both columns are finite.

    When every column has all its rows or none (a symbol not listed yet), one ``np.corrcoef`` serves
    the complete ones; otherwise all pairs come at once from masked sums.
    """
    rows, cols = block.shape
    present = missing < rows
    if (missing[present] == 0).all():
        out = np.full((cols, cols), np.nan)
        kept = np.flatnonzero(present)
        if len(kept):
            out[np.ix_(kept, kept)] = np.corrcoef(block[:, kept], rowvar=False)
        return out, np.outer(present, present) * float(rows)
    return _masked_corr(block)


def _masked_corr(block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairwise-complete Pearson of all pairs from sums over the rows both columns have (centred first);
    a pair with fewer than two common rows, or a series constant over them, is NaN."""
    valid = np.isfinite(block)
    mask = valid.astype(float)
    x = np.where(valid, block, 0.0)
    x = np.where(valid, x - x.sum(axis=0) / np.maximum(mask.sum(axis=0), 1.0), 0.0)
    n = mask.T @ mask
    sx = x.T @ mask  # sx[i, j]: the sum of column i over the rows column j has
    sxx = (x * x).T @ mask
    vx = sxx - sx * sx / n
    out = (x.T @ x - sx * sx.T / n) / np.sqrt(vx * vx.T)
    flat = vx <= 1e-12 * sxx  # constant over the common rows, up to rounding
    out[(n < 2) | flat | flat.T] = np.nan
    return np.clip(out, -1.0, 1.0, out=out), n


def correlations_at(returns: pd.DataFrame, dates, window: int) -> list[CorrelationMatrix]:
    """One matrix per date, over the ``window`` sessions ending on the last session at or before it.

    The frame becomes one array, and its gaps are counted (cumulatively per column), once for all dates.
    """
    values = returns.to_numpy(dtype=float)
    gaps = np.zeros((len(values) + 1, values.shape[1]), dtype=np.int32)
    finite = np.isfinite(values)
    if not finite.all():
        np.cumsum(~finite, axis=0, out=gaps[1:])
    requested = pd.DatetimeIndex(dates)
    ends = returns.index.searchsorted(requested, side="right")
    lasts = returns.index[np.maximum(ends, 1) - 1] if len(values) else requested
    symbols = returns.columns.tolist()
    complete: dict[int, np.ndarray] = {}  # read-only counts of gapless windows, one array per length
    out = []
    with np.errstate(invalid="ignore", divide="ignore"):
        for as_of, end, last in zip(requested, ends, lasts, strict=True):
            start = max(0, end - window)
            missing = gaps[end] - gaps[start]
            if missing.any():
                coefficients, observations = _gapped_corr(values[start:end], missing)
            else:
                coefficients = np.corrcoef(values[start:end], rowvar=False)
                observations = complete.get(end - start)
                if observations is None:
                    observations = complete[end - start] = np.full((len(symbols),) * 2, float(end - start))
                    observations.flags.writeable = False
            out.append(
                CorrelationMatrix(last if end > start else as_of, window, list(symbols), coefficients, observations)
            )
    return out


def month_ends(index: pd.DatetimeIndex, start=None, end=None) -> list[pd.Timestamp]:
    """The last session of each calendar month in ``index`` within [start, end]."""
    sessions = pd.Series(index, index=index)
    if start is not None:
        sessions = sessions[sessions >= pd.Timestamp(start, tz=index.tz)]
    if end is not None:
        sessions = sessions[sessions <= pd.Timestamp(end, tz=index.tz)]
    return list(sessions.groupby([sessions.dt.year, sessions.dt.month]).max())
