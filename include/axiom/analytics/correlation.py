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

DEFAULT_WINDOW = 30  # sessions: the correlations pipeline's default, and the window the questions read


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
    """A window where some columns have only some rows: ``np.corrcoef`` serves the pairs of complete
    columns (a column with gaps is NaN there), masked sums every pair of a partial column (usually
    a few: a listing, a halt)."""
    rows = len(block)
    complete = missing == 0
    partial = np.flatnonzero(~complete & (missing < rows))
    out = np.atleast_2d(np.corrcoef(block, rowvar=False))
    counts = np.outer(complete, complete) * float(rows)
    coefficients, observations = _masked_rows(block, partial)
    out[partial, :], out[:, partial] = coefficients, coefficients.T
    counts[partial, :], counts[:, partial] = observations, observations.T
    return out, counts


def _masked_rows(block: np.ndarray, columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairwise-complete Pearson of ``columns`` against every column, from sums over the rows both
    have (centred first); a pair with fewer than two common rows, or a series constant over them, is NaN."""
    valid = np.isfinite(block)
    mask = valid.astype(float)
    x = np.where(valid, block, 0.0)
    x -= x.sum(axis=0) / np.maximum(mask.sum(axis=0), 1.0)
    x *= mask
    xp, mp = x[:, columns], mask[:, columns]
    n = mp.T @ mask
    sx, sy = xp.T @ mask, mp.T @ x  # column p over the rows column j has, and column j over p's rows
    sxx, syy = (xp * xp).T @ mask, mp.T @ (x * x)
    vx, vy = sxx - sx * sx / n, syy - sy * sy / n
    out = (xp.T @ x - sx * sy / n) / np.sqrt(vx * vy)
    flat = (vx <= 1e-12 * sxx) | (vy <= 1e-12 * syy)  # constant over the common rows, up to rounding
    out[(n < 2) | flat] = np.nan
    return np.clip(out, -1.0, 1.0, out=out), n


def correlations_at(returns: pd.DataFrame, dates, window: int) -> list[CorrelationMatrix]:
    """One matrix per date, over the ``window`` sessions ending on the last session at or before it.

    The frame becomes one array once for all dates, and each window's gaps are counted per column.
    A window whose columns are each complete or empty is one ``np.corrcoef``; in a window with
    partial columns, masked sums give the pairs of those columns.
    """
    values = returns.to_numpy(dtype=float)
    requested = pd.DatetimeIndex(dates)
    ends = returns.index.searchsorted(requested, side="right")
    starts = np.maximum(ends - window, 0)
    lasts = returns.index[np.maximum(ends, 1) - 1] if len(values) else requested
    gaps = ~np.isfinite(values)
    missing = np.zeros((len(ends), values.shape[1]), dtype=np.int64)  # non-finite returns per date and symbol
    if gaps.any():
        for k, (start, end) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True)):
            missing[k] = gaps[start:end].sum(axis=0)
    rows = ends - starts
    whole = ((missing == 0) | (missing == rows[:, None])).all(axis=1)  # each column complete or empty
    symbols = returns.columns.tolist()
    counts: dict[bytes, np.ndarray] = {}  # read-only observation counts, one array per window shape
    out = []
    with np.errstate(invalid="ignore", divide="ignore"):
        for k, (start, end, as_of, last) in enumerate(
            zip(starts.tolist(), ends.tolist(), requested.tolist(), list(lasts), strict=True)
        ):
            block, gaps_k = values[start:end], missing[k]
            if whole[k]:
                # an empty column (a symbol not listed yet) is NaN in its own row and column only
                coefficients = np.corrcoef(block, rowvar=False)
                key = gaps_k.tobytes() + bytes(str(end - start), "ascii")
                observations = counts.get(key)
                if observations is None:
                    present = gaps_k == 0
                    observations = counts[key] = np.outer(present, present) * float(end - start)
                    observations.flags.writeable = False
            else:
                coefficients, observations = _gapped_corr(block, gaps_k)
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
