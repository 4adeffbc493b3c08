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
    A window whose columns are each complete or empty is one ``np.corrcoef``; a window with partial
    columns takes masked sums over all pairs at once.
    """
    values = returns.to_numpy(dtype=float)
    gaps = np.zeros((len(values) + 1, values.shape[1]), dtype=np.int32)
    finite = np.isfinite(values)
    if not finite.all():
        np.cumsum(~finite, axis=0, out=gaps[1:])
    requested = pd.DatetimeIndex(dates)
    ends = returns.index.searchsorted(requested, side="right")
    starts = np.maximum(ends - window, 0)
    lasts = returns.index[np.maximum(ends, 1) - 1] if len(values) else requested
    missing = gaps[ends] - gaps[starts]  # non-finite returns per date and symbol
    rows = ends - starts
    whole = ((missing == 0) | (missing == rows[:, None])).all(axis=1)  # each column complete or empty
    symbols = returns.columns.tolist()
    counts: dict[bytes, np.ndarray] = {}  # read-only observation counts, one array per window shape
    out = []
    with np.errstate(invalid="ignore", divide="ignore"):
        for k, (as_of, last) in enumerate(zip(requested, lasts, strict=True)):
            block = values[starts[k] : ends[k]]
            if whole[k]:
                # an empty column (a symbol not listed yet) is NaN in its own row and column only
                coefficients = np.corrcoef(block, rowvar=False)
                key = rows[k].tobytes() + missing[k].tobytes()
                observations = counts.get(key)
                if observations is None:
                    present = missing[k] == 0
                    observations = counts[key] = np.outer(present, present) * float(rows[k])
                    observations.flags.writeable = False
            else:
                coefficients, observations = _masked_corr(block)
            out.append(CorrelationMatrix(last if rows[k] else as_of, window, list(symbols), coefficients, observations))
    return out


def month_ends(index: pd.DatetimeIndex, start=None, end=None) -> list[pd.Timestamp]:
    """The last session of each calendar month in ``index`` within [start, end]."""
    sessions = pd.Series(index, index=index)
    if start is not None:
        sessions = sessions[sessions >= pd.Timestamp(start, tz=index.tz)]
    if end is not None:
        sessions = sessions[sessions <= pd.Timestamp(end, tz=index.tz)]
    return list(sessions.groupby([sessions.dt.year, sessions.dt.month]).max())
