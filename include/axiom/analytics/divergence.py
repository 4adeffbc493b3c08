"""Divergence of a correlated pair: today's return spread against what the pair's recent relationship predicts.

Over the ``LOOKBACK`` daily simple returns before the session, one leg's return is regressed on the
other's (ordinary least squares: r_a = alpha + beta r_b + e). The session's residual
e = r_a - (alpha + beta r_b), divided by the standard deviation of the fitted residuals, is z. |z| large
means the pair moved apart far more than it usually does. The leg that "moved" is the one whose return
was larger against its own volatility. The mean-reversion trade bets the spread closes: sell the leg
that rose relative to the other and buy beta times the other (or the reverse).
"""

from __future__ import annotations

import numpy as np

LOOKBACK = 60


def divergence(a: np.ndarray, b: np.ndarray, lookback: int = LOOKBACK) -> dict | None:
    """z of the last session for two aligned close series ending on it (None when too short or flat)."""
    if len(a) < lookback + 2 or len(b) < lookback + 2:
        return None
    ra = a[-lookback - 2 :][1:] / a[-lookback - 2 :][:-1] - 1
    rb = b[-lookback - 2 :][1:] / b[-lookback - 2 :][:-1] - 1
    fit_a, fit_b = ra[:-1], rb[:-1]
    if not (np.isfinite(ra).all() and np.isfinite(rb).all()) or fit_b.var() == 0:
        return None
    beta = float(np.cov(fit_a, fit_b, ddof=1)[0, 1] / fit_b.var(ddof=1))
    alpha = float(fit_a.mean() - beta * fit_b.mean())
    sigma = float((fit_a - alpha - beta * fit_b).std(ddof=1))
    if sigma == 0:
        return None
    residual = float(ra[-1] - alpha - beta * rb[-1])
    moved_a = abs(ra[-1]) / fit_a.std(ddof=1) >= abs(rb[-1]) / fit_b.std(ddof=1)
    return {"z": residual / sigma, "residual": residual, "alpha": alpha, "beta": beta, "sigma": sigma,
            "return_a": float(ra[-1]), "return_b": float(rb[-1]), "moved_a": bool(moved_a)}  # fmt: skip


def trade(a: str, b: str, z: float, beta: float) -> str:
    """The mean-reversion trade a divergence suggests, in words."""
    rich, cheap = (a, b) if z > 0 else (b, a)
    return f"mean reversion: sell {rich}, buy {cheap} ({abs(beta):.2f} {b} per {a}); exit when the spread closes"
