"""Pairs statistics as pairs traders define them, from one pair's closes up to a session: the one function the
live divergence alerts and their walk-forward evaluation both call.

Over a formation window of ``formation`` sessions ending on the session (nothing after it):

* the Engle–Granger cointegration test of the log prices (``statsmodels.tsa.stattools.coint``: OLS of log a on
  log b, then an ADF test of the residuals with MacKinnon's p-value);
* the hedge ratio beta and intercept of that OLS (log a = intercept + beta log b + spread);
* the spread's Ornstein–Uhlenbeck half-life, -ln 2 / lambda from the OLS of the spread's change on its lagged
  level (none when lambda >= 0: the spread does not pull back);
* z, the session's spread against the window's mean and standard deviation, and the number of times the
  demeaned spread crossed zero in the window (a pair that never crosses does not trade).

What closes the trade: the spread back to its mean, i.e. a at exp(intercept + beta log b) for the session's b,
or a time stop of ``k`` half-lives.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass

import numpy as np
import statsmodels.api as sm
from statsmodels.tsa.stattools import coint

FORMATION = 120


@dataclass(frozen=True)
class PairStats:
    """A pair's statistics over its formation window ending on the session (the window's last close)."""

    pvalue: float  # Engle–Granger cointegration p-value of the log prices
    hedge: float  # beta of log a on log b
    intercept: float
    spread: float  # the session's spread, log a - intercept - beta log b (its window mean is 0)
    sigma: float  # the spread's standard deviation over the window
    z: float  # spread / sigma
    half_life: float | None  # sessions; None when the spread does not mean-revert (lambda >= 0)
    crossings: int  # zero crossings of the demeaned spread in the window
    formation: int

    def exit_price_a(self, close_b: float) -> float:
        """The price of a at which the spread is back at its mean, given b's close."""
        return math.exp(self.intercept + self.hedge * math.log(close_b))

    def time_stop(self, k: float) -> int | None:
        """Sessions after which the trade is closed whatever the spread did: k half-lives, rounded up."""
        return None if self.half_life is None else max(1, math.ceil(k * self.half_life))

    def as_json(self) -> dict:
        return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def half_life(spread: np.ndarray) -> float | None:
    """-ln 2 / lambda from OLS of the spread's change on its lagged level (with a constant); None when lambda >= 0."""
    fit = sm.OLS(np.diff(spread), sm.add_constant(spread[:-1])).fit()
    lam = float(fit.params[1])
    return None if lam >= 0 else -math.log(2) / lam


def pair_stats(a: np.ndarray, b: np.ndarray, formation: int = FORMATION) -> PairStats | None:
    """The statistics of two aligned close series ending on the session, over its last ``formation`` closes
    (None when there are fewer, a price is not positive, or a leg is flat)."""
    if len(a) < formation or len(b) < formation:
        return None
    la, lb = np.log(np.asarray(a[-formation:], dtype=float)), np.log(np.asarray(b[-formation:], dtype=float))
    if not (np.isfinite(la).all() and np.isfinite(lb).all()) or lb.std() == 0 or la.std() == 0:
        return None
    fit = sm.OLS(la, sm.add_constant(lb)).fit()
    intercept, hedge = float(fit.params[0]), float(fit.params[1])
    spread = la - intercept - hedge * lb
    sigma = float(spread.std(ddof=1))
    if sigma == 0:
        return None
    with warnings.catch_warnings():  # statsmodels warns on near-collinear legs; the p-value says what it means
        warnings.simplefilter("ignore")
        pvalue = float(coint(la, lb, trend="c")[1])
    signs = np.sign(spread[spread != 0])
    return PairStats(
        pvalue=pvalue,
        hedge=hedge,
        intercept=intercept,
        spread=float(spread[-1]),
        sigma=sigma,
        z=float(spread[-1] / sigma),
        half_life=half_life(spread),
        crossings=int((signs[1:] != signs[:-1]).sum()),
        formation=formation,
    )


SCREEN_MARGIN = 1e-6  # rolling_z agrees with pair_stats' z to ~1e-12: a pair this far below a threshold is below it


def rolling_z(a: np.ndarray, b: np.ndarray, formation: int = FORMATION) -> np.ndarray:
    """For every session t, ``pair_stats(a[:t+1], b[:t+1]).z`` computed in one pass (NaN before a full window):
    the evaluation's cheap screen for sessions worth the full statistics, the same OLS in closed form."""
    la, lb = np.log(np.asarray(a, dtype=float)), np.log(np.asarray(b, dtype=float))
    n, w = len(la), formation
    z = np.full(n, np.nan)
    if n < w:
        return z

    def windows(x):
        c = np.concatenate([[0.0], np.cumsum(x)])
        return c[w:] - c[:-w]

    sa, sb, saa, sbb, sab = windows(la), windows(lb), windows(la * la), windows(lb * lb), windows(la * lb)
    var_b = sbb - sb * sb / w
    cov = sab - sa * sb / w
    with np.errstate(divide="ignore", invalid="ignore"):
        beta = cov / var_b
        alpha = (sa - beta * sb) / w
        ssr = (saa - sa * sa / w) - beta * cov  # residual sum of squares of the OLS
        sigma = np.sqrt(np.clip(ssr, 0, None) / (w - 1))
        z[w - 1 :] = (la[w - 1 :] - alpha - beta * lb[w - 1 :]) / sigma
    return z


def trade(a: str, b: str, stats: PairStats, close_b: float, k: float) -> str:
    """The spread trade a divergence suggests, and what closes it, in words."""
    rich, cheap = (a, b) if stats.z > 0 else (b, a)
    stop = stats.time_stop(k)
    return (
        f"spread trade: sell {rich}, buy {cheap} ({abs(stats.hedge):.2f} $ of {b} per $ of {a}); close when the "
        f"spread is back at its mean ({a} at {stats.exit_price_a(close_b):.2f} with {b} at {close_b:.2f})"
        + (f" or after {stop} sessions ({k:g} half-lives)" if stop else "")
    )
