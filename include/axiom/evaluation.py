"""Walk-forward, point-in-time evaluation of Axiom's signals: does "is X a buy?" say anything about what
followed, and do divergences of correlated pairs revert more often than the spread does on any day?

* **Buy verdicts.** At every month-end session in [start, end], for every symbol, the rule analyst
  judges the same facts as the live answer (``axiom.insights.buy``) computed from what the ledger held
  up to that date: the trend, competitors' 20-session returns, the events of the last 7 sessions
  (company events, and Fed decisions scaled by the sector's measured sensitivity, as the graph holds
  them), and the 10 nearest earlier price patterns whose 20-session horizon had ended (exact nearest
  neighbours over the same vectors, where the live answer asks Chroma's index). Each verdict is set
  against the symbol's realised return over the next ``horizon`` sessions: mean and hit rate per
  verdict, beside the unconditional mean, with bootstrap 95% intervals.
* **Divergences.** For every pair whose 30-session return correlation is at least 0.8 on a date, the
  date's residual z against the previous 60 sessions (``axiom.analytics.divergence``); |z| >= 2.5 is a
  divergence. It *reverted* within h sessions when the residuals that followed (same alpha and beta)
  gave back at least half of it. The base rate is the same measure on random (pair, date) draws of
  correlated pairs, divergent or not.

Only the outcome (what followed) looks past the evaluation date; every input stops at it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass
from datetime import date

import numpy as np
import pandas as pd

from axiom.analysts.rules import RuleBasedAnalyst
from axiom.analytics.correlation import month_ends
from axiom.analytics.divergence import LOOKBACK
from axiom.analytics.patterns import pattern_vector, weekly_pattern_vectors
from axiom.insights import buy
from axiom.reads import MIN_HISTORY, wide
from axiom.stores import ledger
from axiom.validation import parse_dates

log = logging.getLogger(__name__)
BOOTSTRAP = 2000
CORRELATION_SESSIONS, MIN_CORRELATION, Z_THRESHOLD = 30, 0.8, 2.5
REVERSION_HORIZONS = (5, 10, 20)


@dataclass(frozen=True)
class EvaluationParams:
    start: date = date(2005, 1, 1)
    end: date = date(2022, 12, 31)
    horizon: int = 20

    @classmethod
    def parse(cls, params: dict) -> EvaluationParams:
        start, end = parse_dates(params.get("start") or cls.start, params.get("end") or cls.end)
        horizon = int(params.get("horizon") or cls.horizon)
        if not 1 <= horizon <= 250:
            raise ValueError(f"horizon must be between 1 and 250 sessions, got {horizon}")
        return cls(start, end, horizon)

    def key(self, kind: str) -> str:
        return hashlib.sha256(json.dumps([kind, asdict(self)], default=str).encode()).hexdigest()


def mean_interval(values: np.ndarray, seed: int = 7) -> dict:
    """Mean, hit rate and a bootstrap 95% interval of the mean."""
    if len(values) == 0:
        return {"n": 0}
    rng = np.random.default_rng(seed)
    means = rng.choice(values, size=(BOOTSTRAP, len(values)), replace=True).mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return {"n": len(values), "mean": float(values.mean()), "low": float(low), "high": float(high),
            "hit_rate": float((values > 0).mean())}  # fmt: skip


def _events_by_symbol(conn, sectors: dict[str, str]) -> dict[str, pd.DataFrame]:
    """Each symbol's event impacts as the graph holds them: its own events, and macro events through its sector."""
    events = pd.DataFrame(ledger.events.market_events(conn))
    if events.empty:
        return {}
    events["day"] = pd.to_datetime(events["occurred_at"], utc=True).dt.normalize()
    own = events[events["symbol"].notna()][["symbol", "day", "impact", "sentiment"]]
    exposure = pd.DataFrame(ledger.events.sensitivities(conn, events.loc[events["symbol"].isna(), "event_id"].tolist()))
    rows = [own]
    if not exposure.empty:
        macro = exposure.merge(events[["event_id", "day", "impact", "sentiment"]], on="event_id")
        macro["impact"] = macro["impact"] * macro["sensitivity"]
        for symbol, sector in sectors.items():
            rows.append(
                macro[macro["sector"] == sector].assign(symbol=symbol)[["symbol", "day", "impact", "sentiment"]]
            )
    table = pd.concat(rows, ignore_index=True).dropna(subset=["impact", "sentiment"])
    return {s: g.sort_values("day") for s, g in table.groupby("symbol")}


def evaluate_buy(conn, params: EvaluationParams) -> dict:
    """The rule analyst's verdicts at every month-end against the realised forward returns."""
    symbols = ledger.prices.symbols(conn)
    long = ledger.prices.closes(conn, symbols)
    closes = wide(long)
    patterns = weekly_pattern_vectors(long, window=30)
    ends = pd.DatetimeIndex([pd.Timestamp(m["as_of"], tz="UTC") for m in patterns.metadatas])
    owners = np.array([m["symbol"] for m in patterns.metadatas])
    forward = np.full(len(ends), np.nan)
    horizon_end = np.full(len(ends), np.datetime64("NaT"), dtype="datetime64[ns]")
    for symbol in symbols:
        series = closes[symbol].dropna()
        mine = np.flatnonzero(owners == symbol)
        at = series.index.get_indexer(ends[mine])
        later = at + params.horizon
        ok = later < len(series)
        forward[mine[ok]] = series.to_numpy()[later[ok]] / series.to_numpy()[at[ok]] - 1
        horizon_end[mine[ok]] = series.index[later[ok]].tz_localize(None).to_numpy()
    companies = ledger.companies.latest_companies(conn)
    sectors = {c.symbol: c.sector for c in companies}
    competitors: dict[str, list[str]] = {}
    for p in ledger.companies.competing_pairs(conn, symbols):
        competitors.setdefault(p["a"], []).append(p["b"])
        competitors.setdefault(p["b"], []).append(p["a"])
    events = _events_by_symbol(conn, sectors)
    rules = RuleBasedAnalyst()
    rows = []
    for day in month_ends(closes.index, params.start, params.end):
        for symbol in symbols:
            series = closes[symbol].loc[:day].dropna()
            if len(series) < MIN_HISTORY or series.index[-1] != day:
                continue
            i = closes[symbol].dropna().index.get_loc(day)
            after = closes[symbol].dropna()
            if i + params.horizon >= len(after):
                continue  # no realised outcome yet
            own = series.to_numpy(dtype=float)
            facts = _facts(symbol, day, own, series.index, closes, patterns, ends, forward, horizon_end,
                           competitors.get(symbol, []), events.get(symbol))  # fmt: skip
            verdict = rules.answer("buy", facts.to_json()).label
            rows.append((day.date().isoformat(), symbol, verdict, float(after.iloc[i + params.horizon] / own[-1] - 1)))
    table = pd.DataFrame(rows, columns=["date", "symbol", "verdict", "forward"])
    results = {
        "params": {**asdict(params), "start": params.start.isoformat(), "end": params.end.isoformat()},
        "observations": len(table),
        "all": mean_interval(table["forward"].to_numpy()),
        "by_verdict": {v: mean_interval(g["forward"].to_numpy()) for v, g in table.groupby("verdict")},
    }
    ledger.signals.store_evaluation(conn, params.key("buy"), kind="buy", params=results["params"], results=results)
    log.info("buy evaluation: %d verdicts over %d month-ends", len(table), table["date"].nunique() if len(table) else 0)
    return results


def _facts(symbol, day, own, index, closes, patterns, ends, forward, horizon_end, peers, events) -> buy.BuyFacts:
    """The facts the live buy answer judges, built by the same ``buy.buy_facts`` from what was known on ``day``."""
    query = pattern_vector(own, 30)
    cutoff = index[-buy.HORIZON - 1] if len(index) > buy.HORIZON else index[0]
    eligible = np.flatnonzero((ends <= cutoff) & ~np.isnan(forward))
    outcomes = np.array([])
    if query is not None and len(eligible):
        distance = ((patterns.embeddings[eligible] - query) ** 2).sum(axis=1)
        nearest = eligible[np.argsort(distance)[: 2 * buy.ANALOGUES]]
        nearest = nearest[horizon_end[nearest] <= day.tz_localize(None).to_datetime64()][: buy.ANALOGUES]
        outcomes = forward[nearest]
    recent = []
    if events is not None:
        since = index[-buy.EVENT_SESSIONS - 1] if len(index) > buy.EVENT_SESSIONS else index[0]
        window = events[(events["day"] > since) & (events["day"] <= day)]
        recent = window[["impact", "sentiment"]].to_dict(orient="records")
    return buy.buy_facts(
        symbol,
        day.date(),
        own,
        peers=[{"symbol": p} for p in peers],
        peer_closes={p: closes[p].loc[:day].dropna().to_numpy() for p in peers},
        events=recent,
        outcomes=outcomes,
    )


def evaluate_divergences(conn, params: EvaluationParams, *, samples: int = 4000, seed: int = 7) -> dict:
    """How often divergences of correlated pairs reverted within 5/10/20 sessions, against random dates."""
    closes = wide(ledger.prices.closes(conn, ledger.prices.symbols(conn)))
    returns = closes.pct_change(fill_method=None)
    in_range = (returns.index >= pd.Timestamp(params.start, tz="UTC")) & (
        returns.index <= pd.Timestamp(params.end, tz="UTC")
    )
    events, base = {h: [] for h in REVERSION_HORIZONS}, {h: [] for h in REVERSION_HORIZONS}
    candidates = []
    symbols = list(returns.columns)
    for i, a in enumerate(symbols):
        for b in symbols[i + 1 :]:
            ra, rb = returns[a], returns[b]
            cov = ra.rolling(LOOKBACK).cov(rb).shift(1)
            var_b, var_a = rb.rolling(LOOKBACK).var().shift(1), ra.rolling(LOOKBACK).var().shift(1)
            beta = cov / var_b
            alpha = ra.rolling(LOOKBACK).mean().shift(1) - beta * rb.rolling(LOOKBACK).mean().shift(1)
            sigma = np.sqrt((var_a - beta**2 * var_b).clip(lower=0))
            residual = ra - alpha - beta * rb
            z = residual / sigma
            correlated = ra.rolling(CORRELATION_SESSIONS).corr(rb) >= MIN_CORRELATION
            e, z, ok = residual.to_numpy(), z.to_numpy(), (correlated & in_range).to_numpy()
            al, be = alpha.to_numpy(), beta.to_numpy()
            ra_, rb_ = ra.to_numpy(), rb.to_numpy()
            for t in np.flatnonzero(ok & np.isfinite(z)):
                reverted = _reverted(ra_, rb_, al[t], be[t], e[t], t)
                if reverted is None:
                    continue
                candidates.append(reverted)
                if abs(z[t]) >= Z_THRESHOLD:
                    for h in REVERSION_HORIZONS:
                        events[h].append(reverted[h])
    rng = np.random.default_rng(seed)
    for j in rng.choice(len(candidates), size=min(samples, len(candidates)), replace=False) if candidates else []:
        for h in REVERSION_HORIZONS:
            base[h].append(candidates[j][h])
    results = {
        "params": {**asdict(params), "start": params.start.isoformat(), "end": params.end.isoformat()},
        "divergences": len(events[REVERSION_HORIZONS[0]]),
        "reverted": {str(h): mean_interval(np.array(events[h], dtype=float)) for h in REVERSION_HORIZONS},
        "base_rate": {str(h): mean_interval(np.array(base[h], dtype=float)) for h in REVERSION_HORIZONS},
    }
    key = params.key("divergence")
    ledger.signals.store_evaluation(conn, key, kind="divergence", params=results["params"], results=results)
    return results


def _reverted(ra, rb, alpha, beta, residual, t) -> dict | None:
    """Whether the residuals after session t gave back half of its residual within each horizon."""
    last = t + max(REVERSION_HORIZONS)
    if last >= len(ra) or not np.isfinite(residual) or residual == 0:
        return None
    later = ra[t + 1 : last + 1] - alpha - beta * rb[t + 1 : last + 1]
    if not np.isfinite(later).all():
        return None
    path = np.sign(residual) * np.cumsum(later)
    back = path <= -abs(residual) / 2
    return {h: bool(back[:h].any()) for h in REVERSION_HORIZONS}


def headline(buy_results: dict, divergence_results: dict) -> str:
    """The evaluation's headline tables, as text."""
    p = buy_results["params"]
    lines = [f"'Is X a buy?' (rule analyst) at every month-end {p['start']} to {p['end']}, "
             f"{p['horizon']}-session forward return:",
             f"  {'verdict':<10}{'n':>7}{'mean':>9}{'95% interval':>22}{'hit rate':>10}"]  # fmt: skip
    for name, r in [("all", buy_results["all"]), *sorted(buy_results["by_verdict"].items())]:
        if r.get("n"):
            interval = f"[{r['low']:+.2%}, {r['high']:+.2%}]"
            lines.append(f"  {name:<10}{r['n']:>7}{r['mean']:>+9.2%}{interval:>22}{r['hit_rate']:>10.0%}")
    lines.append(
        f"Divergences of correlated pairs (|z| >= {Z_THRESHOLD}, r >= {MIN_CORRELATION}): "
        f"{divergence_results['divergences']}; spread gave back half its move"
    )
    for h in divergence_results["reverted"]:
        r, b = divergence_results["reverted"][h], divergence_results["base_rate"][h]
        if r.get("n") and b.get("n"):
            lines.append(f"  within {h:>2} sessions: {r['mean']:.0%} [{r['low']:.0%}, {r['high']:.0%}]"
                         f"  vs random dates {b['mean']:.0%} [{b['low']:.0%}, {b['high']:.0%}]")  # fmt: skip
    return "\n".join(lines)


def charts(buy_results: dict, divergence_results: dict, path) -> None:
    """One PNG: mean forward return per verdict (with intervals), and reversion rates against the base rate."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    groups = [("all", buy_results["all"]), *sorted(buy_results["by_verdict"].items())]
    stats = [r for _, r in groups if r.get("n")]
    names = [f"{g}\n(n={r['n']})" for g, r in groups if r.get("n")]
    means = [100 * r["mean"] for r in stats]
    errors = [[100 * (r["mean"] - r["low"]) for r in stats], [100 * (r["high"] - r["mean"]) for r in stats]]
    left.bar(names, means, yerr=errors, capsize=4, color=["#999999", "#1a7f37", "#8a6d00", "#c62828"][: len(names)])
    left.axhline(0, color="black", linewidth=0.6)
    left.set_title(f"'Is X a buy?': mean {buy_results['params']['horizon']}-session forward return (%)")
    horizons = list(divergence_results["reverted"])
    x = np.arange(len(horizons))
    for shift, (label, key, color) in enumerate(
        (("divergences", "reverted", "#017cee"), ("random dates", "base_rate", "#999999"))
    ):
        rows = [divergence_results[key][h] for h in horizons]
        right.bar(
            x + (shift - 0.5) * 0.38, [100 * r.get("mean", 0) for r in rows], width=0.38, label=label, color=color
        )
    right.set_xticks(x, [f"within {h} sessions" for h in horizons])
    right.set_title(f"Spread gave back half its move (%), {divergence_results['divergences']} divergences")
    right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
