"""Walk-forward, point-in-time evaluation of Axiom's signals, measured the way the field reports them.

* **Buy verdicts as a factor.** At every month-end session in [start, end], for every symbol, the rule analyst
  judges the same facts as the live answer (``axiom.insights.buy``) computed from what the ledger held up to that
  date; its numeric score (``rules.buy_score``, the rules' total) is set against the return over the next
  ``horizon`` sessions starting at the NEXT session's close (a signal never trades on the close it was computed
  from). Per date, the cross-sectional information coefficient (Pearson) and rank IC (Spearman); their mean,
  ICIR (mean / std) and t-statistic (mean / std x sqrt(dates)); returns by verdict and by score tercile; the
  turnover of the top tercile; beside two baselines scored the same way on the same dates (12-1 month momentum,
  1-month reversal) and the unconditional return. Reported for the whole span and apart for 2005-2014 (where a
  rule change would be tuned) and 2015-2022 (held out).
* **Divergences.** Every session of every pair, from closes up to it: a pair correlated the session before
  (30-session return correlation, as the graph draws the live pairs) whose statistics qualify by the live
  alerts' own decision (``alerts.divergence``: cointegrated, half-life in bounds, |z| past the threshold). For
  each: whether the spread (same hedge ratio and mean) came back to its mean within the horizon and within k
  half-lives, how long it took, and the spread trade's return after costs (entered at the next session's close,
  closed at the mean, the time stop or the horizon). Against the same trigger (|z| past the threshold) on random
  other pairs matched by sector relation and volatility, drawn again and again (a bootstrap, as Gatev, Goetzmann
  and Rouwenhorst 2006 compared with random pairs).

Only the outcome looks past the evaluation date; every input stops at it. Each observation's outcome is kept
with the session it ended (``signal_outcome``), so an answer's track record as of D uses only outcomes ended by D.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from dataclasses import asdict, dataclass
from datetime import date

import numpy as np
import pandas as pd

from axiom.alerts import MATCHED, QUALIFIED, AlertParams, divergence
from axiom.analysts.rules import RuleBasedAnalyst, buy_score
from axiom.analytics.correlation import month_ends
from axiom.analytics.pairs import SCREEN_MARGIN, pair_stats, rolling_z
from axiom.analytics.patterns import pattern_vector, weekly_pattern_vectors
from axiom.insights import buy
from axiom.reads import MIN_HISTORY, wide
from axiom.stores import ledger
from axiom.validation import parse_dates

log = logging.getLogger(__name__)
BOOTSTRAP = 2000
CORRELATION_SESSIONS = 30
PERIODS = (("2005-2014", date(2005, 1, 1), date(2014, 12, 31)), ("2015-2022", date(2015, 1, 1), date(2022, 12, 31)))
FACTORS = (("score", "rule score"), ("momentum", "momentum 12-1"), ("reversal", "reversal 1m"))
MOMENTUM_SKIP, MOMENTUM_LOOKBACK = 21, 252
ANCHORS = (
    "published anchors: the distance method earned about 0.9 % a month in excess 1962-2002 (Gatev, Goetzmann & "
    "Rouwenhorst 2006), about 0.24 % a month 2003-2009 (Do & Faff 2010); up to a third of distance pairs never "
    "converge"
)
SURVIVORSHIP = (
    "survivorship bias: the universe is 20 large US stocks chosen in 2022 (skfolio's S&P 500 sample), every one a "
    "survivor, so returns before 2022 are biased upward (no delisted or failed names) and rules that favour past "
    "winners look better than they were"
)


@dataclass(frozen=True)
class EvaluationParams:
    start: date = date(2005, 1, 1)
    end: date = date(2022, 12, 31)
    horizon: int = 20
    cost_bp: float = 10.0  # per leg per side

    @classmethod
    def parse(cls, params: dict) -> EvaluationParams:
        start, end = parse_dates(params.get("start") or cls.start, params.get("end") or cls.end)
        horizon = int(params.get("horizon") or cls.horizon)
        if not 1 <= horizon <= 250:
            raise ValueError(f"horizon must be between 1 and 250 sessions, got {horizon}")
        cost = float(params.get("cost_bp") if params.get("cost_bp") is not None else cls.cost_bp)
        if not 0 <= cost <= 100:
            raise ValueError(f"cost_bp must be between 0 and 100 basis points, got {cost}")
        return cls(start, end, horizon, cost)

    def key(self, kind: str) -> str:
        return hashlib.sha256(json.dumps([kind, asdict(self)], default=str).encode()).hexdigest()

    def as_json(self) -> dict:
        return {**asdict(self), "start": self.start.isoformat(), "end": self.end.isoformat()}


def mean_interval(values: np.ndarray, seed: int = 7) -> dict:
    """Mean, hit rate and a bootstrap 95% interval of the mean."""
    if len(values) == 0:
        return {"n": 0}
    rng = np.random.default_rng(seed)
    means = rng.choice(values, size=(BOOTSTRAP, len(values)), replace=True).mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return {"n": len(values), "mean": float(values.mean()), "low": float(low), "high": float(high),
            "hit_rate": float((values > 0).mean())}  # fmt: skip


def jsonable(value):
    """Results as JSON keeps them: text keys, ISO dates, plain numbers, None for what is not a number."""
    if isinstance(value, dict):
        return {str(k.isoformat() if isinstance(k, date) else k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def ordered(results: dict) -> list[tuple[str, dict]]:
    """An evaluation's periods in the order it reported them, the whole span first (kept as a list: the ledger's
    JSONB orders an object's keys its own way)."""
    return [(name, results["periods"][name]) for name in results.get("order") or list(results["periods"])]


def periods(params: EvaluationParams) -> list[tuple[str, date, date]]:
    """The whole span, then each reporting period that overlaps it (clipped to it)."""
    out = [(f"{params.start.year}-{params.end.year}", params.start, params.end)]
    for name, first, last in PERIODS:
        lo, hi = max(first, params.start), min(last, params.end)
        if lo <= hi and (lo, hi) != (params.start, params.end):
            out.append((name, lo, hi))
    return out


def information_coefficients(table: pd.DataFrame, factor: str, label: str = "forward") -> pd.DataFrame:
    """Per date, the cross-sectional Pearson IC and Spearman rank IC of ``factor`` against ``label`` (dates with
    fewer than 5 names, or a constant factor, have none)."""
    rows = []
    for day, g in table.groupby("date"):
        g = g[[factor, label]].dropna()
        if len(g) < 5 or g[factor].nunique() < 2 or g[label].nunique() < 2:
            continue
        ranks = g.rank()
        rows.append(
            (day, float(np.corrcoef(g[factor], g[label])[0, 1]), float(np.corrcoef(ranks[factor], ranks[label])[0, 1]))
        )
    return pd.DataFrame(rows, columns=["date", "ic", "rank_ic"])


def ic_summary(ics: pd.Series) -> dict:
    """Mean, standard deviation, ICIR (mean / std) and t-statistic (mean / std x sqrt(n)) of a per-date IC series."""
    n = len(ics)
    if n < 2 or ics.std(ddof=1) == 0:
        return {"dates": n}
    mean, sd = float(ics.mean()), float(ics.std(ddof=1))
    return {"dates": n, "mean": mean, "std": sd, "icir": mean / sd, "t": mean / sd * np.sqrt(n)}


def terciles(table: pd.DataFrame, factor: str) -> pd.Series:
    """Each row's tercile of ``factor`` within its date, 1 (lowest) to 3; ties share a tercile (average ranks)."""
    pct = table.groupby("date")[factor].rank(method="average", pct=True)
    return np.ceil(pct * 3).clip(1, 3)


def factor_report(table: pd.DataFrame, factor: str) -> dict:
    """IC and rank IC summaries, mean return by tercile (the mean of per-date means), top-minus-bottom, and the
    mean share of the top tercile that is new each date (turnover)."""
    ics = information_coefficients(table, factor)
    frame = table.assign(tercile=terciles(table, factor))
    by_date = frame.groupby(["date", "tercile"])["forward"].mean().unstack()
    means = {str(int(q)): float(by_date[q].mean()) for q in by_date.columns}
    top = frame[frame["tercile"] == 3].groupby("date")["symbol"].apply(set).sort_index()
    changes = [len(now - before) / len(now) for before, now in zip(top.iloc[:-1], top.iloc[1:], strict=True) if now]
    return {
        "ic": ic_summary(ics["ic"]),
        "rank_ic": ic_summary(ics["rank_ic"]),
        "terciles": means,
        "top_minus_bottom": means.get("3", np.nan) - means.get("1", np.nan) if {"1", "3"} <= set(means) else None,
        "turnover": float(np.mean(changes)) if changes else None,
        "series": {d: round(v, 6) for d, v in zip(ics["date"], ics["rank_ic"], strict=True)},
    }


def buy_table(conn, params: EvaluationParams) -> pd.DataFrame:
    """Every (month-end, symbol) in the span: the rule analyst's verdict and score from what was known that day,
    the momentum and reversal baselines, and the forward return from the next session's close with its end."""
    symbols = ledger.prices.symbols(conn)
    long = ledger.prices.closes(conn, symbols)
    closes = wide(long)
    patterns = weekly_pattern_vectors(long, window=30)
    ends = pd.DatetimeIndex([pd.Timestamp(m["as_of"], tz="UTC") for m in patterns.metadatas])
    owners = np.array([m["symbol"] for m in patterns.metadatas])
    forward = np.full(len(ends), np.nan)
    horizon_end = np.full(len(ends), np.datetime64("NaT"), dtype="datetime64[ns]")
    for symbol in symbols:  # the analogues' realised returns, as Chroma's records carry them
        series = closes[symbol].dropna()
        mine = np.flatnonzero(owners == symbol)
        at = series.index.get_indexer(ends[mine])
        later = at + buy.HORIZON
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
            after = closes[symbol].dropna()
            series = after.loc[:day]
            if len(series) < MIN_HISTORY or series.index[-1] != day:
                continue
            i = len(series) - 1
            if i + 1 + params.horizon >= len(after):
                continue  # no realised outcome yet
            own = series.to_numpy(dtype=float)
            facts = _facts(
                symbol,
                day,
                own,
                series.index,
                closes,
                patterns,
                ends,
                forward,
                horizon_end,
                competitors.get(symbol, []),
                events.get(symbol),
            ).to_json()
            entry, exit_ = after.iloc[i + 1], after.iloc[i + 1 + params.horizon]
            momentum = own[-1 - MOMENTUM_SKIP] / own[-1 - MOMENTUM_LOOKBACK] - 1 if i >= MOMENTUM_LOOKBACK else np.nan
            rows.append(
                (
                    day.date(),
                    symbol,
                    rules.answer("buy", facts).label,
                    buy_score(facts),
                    momentum,
                    -(own[-1] / own[-1 - MOMENTUM_SKIP] - 1),
                    float(exit_ / entry - 1),
                    after.index[i + 1 + params.horizon].date(),
                )
            )
    return pd.DataFrame(
        rows, columns=["date", "symbol", "verdict", "score", "momentum", "reversal", "forward", "ended_on"]
    )


def evaluate_buy(conn, params: EvaluationParams) -> dict:
    """The buy score as a factor against momentum and reversal, per period; each observation's outcome kept."""
    table = buy_table(conn, params)
    scored = table.dropna(subset=["momentum"])  # the same dates and names for every factor
    results = {"params": params.as_json(), "observations": len(table), "periods": {}, "order": []}
    for name, first, last in periods(params):
        part = scored[(scored["date"] >= first) & (scored["date"] <= last)]
        results["order"].append(name)
        results["periods"][name] = {
            "dates": int(part["date"].nunique()),
            "observations": len(part),
            "all": mean_interval(part["forward"].to_numpy()),
            "by_verdict": {v: mean_interval(g["forward"].to_numpy()) for v, g in part.groupby("verdict")},
            "factors": {f: factor_report(part, f) for f, _ in FACTORS} if len(part) else {},
        }
    results = jsonable(results)
    key = params.key("buy")
    ledger.signals.store_evaluation(
        conn,
        key,
        kind="buy",
        params=results["params"],
        results=results,
        outcomes=[
            {
                "label": r.verdict,
                "subject": r.symbol,
                "signal_date": r.date,
                "value": r.forward,
                "hit": r.forward > 0,
                "ended_on": r.ended_on,
            }
            for r in table.itertuples()
        ],
    )
    log.info("buy evaluation: %d verdicts over %d month-ends", len(table), table["date"].nunique() if len(table) else 0)
    return results


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


def spread_outcome(a: np.ndarray, b: np.ndarray, t: int, stats, horizon: int, k: float, cost_bp: float) -> dict | None:
    """What followed a divergence on session t (closes a, b aligned; ``stats`` of the window ending on t): the
    first session the spread (same hedge ratio and mean) was back at its mean within ``horizon``, and the spread
    trade entered at t+1's close and closed at the mean, after k half-lives or at the horizon, after costs
    (``cost_bp`` per leg per side). None when the horizon has not passed."""
    if t + horizon >= len(a):
        return None
    later = np.log(a[t + 1 : t + horizon + 1]) - stats.intercept - stats.hedge * np.log(b[t + 1 : t + horizon + 1])
    side = np.sign(stats.spread)
    back = np.flatnonzero(side * later <= 0)
    converged = int(back[0]) + 1 if len(back) else None  # sessions after t
    stop = stats.time_stop(k) or horizon
    exit_ = min(converged or horizon, stop, horizon)
    traded = converged is None or converged > 1  # it had not converged by the entry close
    value = 0.0
    if traded:
        ra, rb = a[t + exit_] / a[t + 1] - 1, b[t + exit_] / b[t + 1] - 1
        value = float(-side * (ra - stats.hedge * rb) / (1 + abs(stats.hedge)) - 2 * cost_bp / 1e4)
    return {
        "converged": converged is not None,
        "sessions": converged,
        "within_half_lives": converged is not None and stats.half_life is not None and converged <= stop,
        "traded": traded,
        "value": value,
        "held": exit_ - 1 if traded else 0,
        "ended": t + (converged or horizon),
    }


def divergence_events(conn, params: EvaluationParams, alert: AlertParams, *, controls: int = 3000, seed: int = 7):
    """Every qualified divergence in the span (walk-forward: every session, every pair, the live decision) with its
    outcome, and a random sample of the same trigger on pairs that did not qualify then, with theirs."""
    closes = ledger.prices.close_table(conn, ledger.prices.symbols(conn))
    sectors = {c.symbol: c.sector for c in ledger.companies.latest_companies(conn)}
    returns = closes.pct_change(fill_method=None)
    vol = returns.rolling(60).std() * np.sqrt(252)
    first, last = pd.Timestamp(params.start, tz="UTC"), pd.Timestamp(params.end, tz="UTC")
    qualified, triggered = [], []
    symbols = list(closes.columns)
    for i, sa in enumerate(symbols):
        for sb in symbols[i + 1 :]:
            both = closes[[sa, sb]].dropna()
            a, b = both[sa].to_numpy(dtype=float), both[sb].to_numpy(dtype=float)
            z = rolling_z(a, b, alert.formation)
            r = both.pct_change()
            correlated = r[sa].rolling(CORRELATION_SESSIONS).corr(r[sb]).shift(1).abs() >= alert.min_coefficient
            span = (both.index >= first) & (both.index <= last)
            # the closed form screens; the function decides
            screen = span & (np.abs(z) >= alert.z_threshold - SCREEN_MARGIN)
            pair = {"a": sa, "b": sb, "coefficient": None}
            for t in np.flatnonzero(screen):
                found = None
                if correlated.iloc[t]:
                    coefficient = float(
                        r[sa].iloc[t - CORRELATION_SESSIONS : t].corr(r[sb].iloc[t - CORRELATION_SESSIONS : t])
                    )
                    pair["coefficient"] = round(coefficient, 4)
                    found = divergence(pair, a[: t + 1], b[: t + 1], both.index[t].date(), alert)
                if found is not None:
                    qualified.append((sa, sb, both, t, found))
                else:
                    triggered.append((sa, sb, both, t))
    rng = np.random.default_rng(seed)
    sample = [
        triggered[j] for j in sorted(rng.choice(len(triggered), size=min(controls, len(triggered)), replace=False))
    ]
    rows = []
    for group, events in ((QUALIFIED, qualified), (MATCHED, [(*e, None) for e in sample])):
        for sa, sb, both, t, found in events:
            a, b = both[sa].to_numpy(dtype=float), both[sb].to_numpy(dtype=float)
            stats = pair_stats(a[: t + 1], b[: t + 1], alert.formation)
            if stats is None or abs(stats.z) < alert.z_threshold:
                continue
            outcome = spread_outcome(a, b, t, stats, params.horizon, alert.stop_half_lives, params.cost_bp)
            if outcome is None:
                continue
            day = both.index[t]
            rows.append(
                {
                    "group": group,
                    "a": sa,
                    "b": sb,
                    "date": day.date(),
                    **outcome,
                    "ended_on": both.index[outcome["ended"]].date(),
                    "half_life": stats.half_life,
                    "same_sector": sectors.get(sa) == sectors.get(sb) and sa in sectors,
                    "volatility": float((vol[sa].loc[day] + vol[sb].loc[day]) / 2),
                    "alert": found,
                }
            )
    table = pd.DataFrame(rows)
    if len(table):
        table["vol_tercile"] = pd.qcut(table["volatility"].rank(method="first"), 3, labels=False)
    return table


def matched_bootstrap(events: pd.DataFrame, pool: pd.DataFrame, *, draws: int = 1000, seed: int = 7) -> dict:
    """The convergence rate of random events matched to ``events`` one for one (same sector relation and volatility
    tercile; the sector relation alone, then any, when none match), and the mean trade return of random *traded*
    events matched to the traded ones (the events' own trade return counts traded events only: the same basis),
    drawn ``draws`` times: the mean, a 95% interval, and the share of draws at least as good as the events."""
    if events.empty or pool.empty:
        return {"draws": 0}
    rng = np.random.default_rng(seed)

    def drawn(mine: pd.DataFrame, others: pd.DataFrame, column: str) -> dict:
        if mine.empty or others.empty:
            return {}
        choices = []
        for e in mine.itertuples():
            other = others[(others["a"] != e.a) | (others["b"] != e.b)]  # another pair
            same = other.index[(other["same_sector"] == e.same_sector) & (other["vol_tercile"] == e.vol_tercile)]
            if len(same) == 0:
                same = other.index[other["same_sector"] == e.same_sector]
            choices.append(np.asarray(same if len(same) else other.index))
        picks = np.array([[rng.choice(c) for c in choices] for _ in range(draws)])
        means = others.loc[picks.ravel(), column].to_numpy(dtype=float).reshape(picks.shape).mean(axis=1)
        own = float(mine[column].astype(float).mean())
        return {"mean": float(means.mean()), "low": float(np.percentile(means, 2.5)),
                "high": float(np.percentile(means, 97.5)), "p_at_least": float((means >= own).mean())}  # fmt: skip

    return {
        "draws": draws,
        "converged": drawn(events, pool, "converged"),
        "value": drawn(events[events["traded"]], pool[pool["traded"]], "value"),
    }


def divergence_report(events: pd.DataFrame, pool: pd.DataFrame) -> dict:
    """Convergence, time to converge, non-convergence and the trade after costs of ``events``, beside matched
    random events of ``pool``."""
    if events.empty:
        return {"n": 0}
    traded = events[events["traded"]]
    held = float(traded["held"].mean()) if len(traded) else 0.0
    trade = mean_interval(traded["value"].to_numpy())
    return {
        "n": len(events),
        "converged": mean_interval(events["converged"].to_numpy(dtype=float)),
        "within_half_lives": mean_interval(events["within_half_lives"].to_numpy(dtype=float)),
        "never_converged": float(1 - events["converged"].mean()),
        "median_sessions": float(events["sessions"].dropna().median()) if events["converged"].any() else None,
        "trade": trade,
        "held_sessions": held,
        "per_month_held": trade["mean"] / held * 21 if trade.get("n") and held > 0 else None,
        "matched": matched_bootstrap(events, pool),
    }


def evaluate_divergences(conn, params: EvaluationParams, alert: AlertParams | None = None) -> dict:
    """Qualified divergences against matched random pairs, per period; each observation's outcome kept."""
    alert = alert or AlertParams()
    table = divergence_events(conn, params, alert)
    results = {
        "params": params.as_json(),
        "alert": {k: v for k, v in asdict(alert).items() if k != "symbols"},
        "divergences": int((table["group"] == QUALIFIED).sum()) if len(table) else 0,
        "periods": {},
        "order": [],
        "alerts": [],
    }
    for name, first, last in periods(params):
        part = table[(table["date"] >= first) & (table["date"] <= last)] if len(table) else table
        results["order"].append(name)
        if part.empty:
            results["periods"][name] = {"n": 0}
            continue
        qualified, pool = part[part["group"] == QUALIFIED], part[part["group"] == MATCHED]
        results["periods"][name] = {
            "qualified": divergence_report(qualified, pool),
            "random": divergence_report(pool, pool.iloc[0:0]),
        }
    if len(table):
        alerts = table[table["group"] == QUALIFIED]
        results["alerts"] = [
            {
                "id": ledger.signals.signal_id(r.alert),
                "z": r.alert["z"],
                "beta": r.alert["beta"],
                "pvalue": r.alert["stats"]["pvalue"],
                "half_life": r.alert["stats"]["half_life"],
                "converged": bool(r.converged),
                "value": round(float(r.value), 6),
            }
            for r in alerts.itertuples()
        ]
    results = jsonable(results)
    key = params.key("divergence")
    ledger.signals.store_evaluation(
        conn,
        key,
        kind="divergence",
        params=results["params"],
        results=results,
        outcomes=[
            {
                "label": r.group,
                "subject": f"{r.a}:{r.b}",
                "signal_date": r.date,
                "value": r.value,
                "hit": r.converged,
                "ended_on": r.ended_on,
            }
            for r in table.itertuples()
        ]
        if len(table)
        else [],
    )
    log.info("divergence evaluation: %d qualified divergences", results["divergences"])
    return results


def _pct(r: dict, key: str = "mean") -> str:
    return f"{r[key]:+.2%}" if r.get(key) is not None else "n/a"


def _interval(r: dict, fmt: str = "+.2%") -> str:
    return f"[{r['low']:{fmt}}, {r['high']:{fmt}}]" if r.get("n", r.get("draws")) else ""


def buy_headline(results: dict) -> str:
    """The buy evaluation's tables, as text: per period the factors side by side, the verdicts, the terciles."""
    p = results["params"]
    lines = [
        f"'Is X a buy?' as a factor: the rule analyst's score at every month-end {p['start']} to {p['end']}, "
        f"against the {p['horizon']}-session return from the next session's close"
    ]
    for name, r in ordered(results):
        if not r.get("observations"):
            continue
        lines += [
            f"{name}: {r['dates']} month-ends, {r['observations']} observations; unconditional "
            f"{_pct(r['all'])} {_interval(r['all'])}, {r['all']['hit_rate']:.0%} up",
            f"  {'factor':<15}{'IC':>8}{'rank IC':>9}{'ICIR':>7}{'t':>7}{'low':>9}{'mid':>9}{'high':>9}"
            f"{'high-low':>10}{'turnover':>10}",
        ]
        for factor, title in FACTORS:
            f = r["factors"][factor]
            ic, rank = f["ic"], f["rank_ic"]
            q = f["terciles"]
            spread = f"{f['top_minus_bottom']:+.2%}" if f["top_minus_bottom"] is not None else "n/a"
            lines.append(
                f"  {title:<15}{ic.get('mean', np.nan):>+8.3f}{rank.get('mean', np.nan):>+9.3f}"
                f"{rank.get('icir', np.nan):>+7.2f}{rank.get('t', np.nan):>+7.2f}"
                + "".join(f"{q.get(k, np.nan):>+9.2%}" for k in ("1", "2", "3"))
                + f"{spread:>10}{(f['turnover'] or 0):>10.0%}"
            )
        lines.append(f"  {'verdict':<15}{'n':>8}{'mean':>9}{'95% interval':>22}{'hit rate':>10}")
        for verdict, v in sorted(r["by_verdict"].items()):
            lines.append(f"  {verdict:<15}{v['n']:>8}{v['mean']:>+9.2%}{_interval(v):>22}{v['hit_rate']:>10.0%}")
    lines.append(f"  ({SURVIVORSHIP})")
    return "\n".join(lines)


def divergence_headline(results: dict) -> str:
    """The divergence evaluation's tables, as text: per period qualified alerts against matched random pairs."""
    p, a = results["params"], results["alert"]
    lines = [
        f"Divergences as pairs traders define them, every session {p['start']} to {p['end']}: |z| >= "
        f"{a['z_threshold']} over a {a['formation']}-session formation window, r >= {a['min_coefficient']}, "
        f"cointegration p <= {a['max_pvalue']}, half-life {a['min_half_life']:g}-{a['max_half_life']:g} "
        f"sessions; converged = the spread back at its mean within {p['horizon']} sessions; trade after "
        f"{p['cost_bp']:g} bp per leg per side"
    ]
    for name, r in ordered(results):
        q = r.get("qualified") or {}
        if not q.get("n"):
            lines.append(f"{name}: no qualified divergence")
            continue
        m, rand = q["matched"], r["random"]
        lines += [
            f"{name}: {q['n']} qualified divergences",
            f"  converged within {p['horizon']} sessions {q['converged']['mean']:.0%} "
            f"{_interval(q['converged'], '.0%')}"
            f" vs matched random pairs {m['converged']['mean']:.0%} {_interval({**m['converged'], 'n': 1}, '.0%')}"
            f" (share of draws at least as high: {m['converged']['p_at_least']:.0%}); all random triggers "
            f"{rand['converged']['mean']:.0%} (n {rand['n']})",
            f"  within {a['stop_half_lives']:g} half-lives {q['within_half_lives']['mean']:.0%}; never converged "
            f"{q['never_converged']:.0%}; median time to converge {q['median_sessions'] or 0:.0f} sessions",
            f"  spread trade after costs: mean {_pct(q['trade'])} {_interval(q['trade'])} per trade "
            f"(n {q['trade']['n']}, {q['trade'].get('hit_rate', 0):.0%} positive, held {q['held_sessions']:.1f} "
            f"sessions, {q['per_month_held'] or 0:+.2%} per month held) vs matched random traded "
            + (f"{m['value']['mean']:+.2%} {_interval({**m['value'], 'n': 1})}" if m.get("value") else "(none)"),
        ]
    lines.append(f"  ({ANCHORS})")
    return "\n".join(lines)


def headline(buy_results: dict, divergence_results: dict) -> str:
    """Both evaluations' tables, as text."""
    return buy_headline(buy_results) + "\n\n" + divergence_headline(divergence_results)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def buy_chart(results: dict, path) -> None:
    """One PNG: mean rank IC (with a 95% band) per factor and period, and the rank IC accumulated over dates."""
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2))
    names = [n for n, r in ordered(results) if r.get("observations")]
    x = np.arange(len(names))
    colors = {"score": "#017cee", "momentum": "#1a7f37", "reversal": "#8a6d00"}
    for shift, (factor, title) in enumerate(FACTORS):
        rows = [results["periods"][n]["factors"][factor]["rank_ic"] for n in names]
        means = [r.get("mean", 0) for r in rows]
        bands = [1.96 * r["std"] / np.sqrt(r["dates"]) if r.get("std") else 0 for r in rows]
        left.bar(x + (shift - 1) * 0.27, means, width=0.27, yerr=bands, capsize=3, label=title, color=colors[factor])
    left.axhline(0, color="black", linewidth=0.6)
    left.set_xticks(x, names)
    left.set_title("Mean rank IC per month-end (95% band)")
    left.legend()
    whole = results["periods"][names[0]]["factors"] if names else {}
    for factor, title in FACTORS:
        series = pd.Series(whole.get(factor, {}).get("series", {}), dtype=float)
        if len(series):
            series.index = pd.to_datetime(series.index)
            right.plot(series.index, series.sort_index().cumsum(), label=title, color=colors[factor])
    right.axhline(0, color="black", linewidth=0.6)
    right.set_title(f"Cumulative rank IC, {names[0] if names else ''}")
    right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def divergence_chart(results: dict, path) -> None:
    """One PNG: convergence rate and mean trade return after costs of qualified divergences against matched
    random pairs (bootstrap 95% bands), per period."""
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2))
    names = [n for n, r in ordered(results) if (r.get("qualified") or {}).get("n")]
    x = np.arange(len(names))
    for ax, key, matched_key, title in (
        (left, "converged", "converged", "Spread back at its mean within the horizon (%)"),
        (right, "trade", "value", "Spread trade after costs, mean per trade (%)"),
    ):
        own = [results["periods"][n]["qualified"][key] for n in names]
        matched = [results["periods"][n]["qualified"]["matched"][matched_key] for n in names]
        for shift, (rows, label, color) in enumerate(
            ((own, "qualified divergences", "#017cee"), (matched, "matched random pairs", "#999999"))
        ):
            means = [100 * r.get("mean", 0) for r in rows]
            errors = [
                [100 * (r["mean"] - r["low"]) if "low" in r else 0 for r in rows],
                [100 * (r["high"] - r["mean"]) if "high" in r else 0 for r in rows],
            ]
            ax.bar(x + (shift - 0.5) * 0.38, means, width=0.38, yerr=errors, capsize=3, label=label, color=color)
        ax.axhline(0, color="black", linewidth=0.6)
        ax.set_xticks(x, [f"{n}\n(n={results['periods'][n]['qualified']['n']})" for n in names])
        ax.set_title(title)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


_DRAWING = threading.Lock()
CHARTS = {"buy": ("evaluation-buy.png", buy_chart), "divergence": ("evaluation-divergence.png", divergence_chart)}


def chart_png(conn, kind: str) -> bytes:
    """The chart of the newest evaluation of ``kind`` in the ledger, as PNG bytes (the page draws it); LookupError
    before any evaluation of that kind."""
    import io

    results = ledger.signals.latest_evaluation(conn, kind)
    if results is None:
        raise LookupError(f"no {kind} evaluation in the ledger yet: run python -m axiom evaluate")
    buffer = io.BytesIO()
    with _DRAWING:  # pyplot's state is the process's: one chart at a time
        CHARTS[kind][1](results, buffer)
    return buffer.getvalue()


def charts(buy_results: dict, divergence_results: dict, folder) -> list:
    """One chart per evaluation in ``folder``; their paths."""
    from pathlib import Path

    paths = []
    Path(folder).mkdir(parents=True, exist_ok=True)
    for kind, results in (("buy", buy_results), ("divergence", divergence_results)):
        name, draw = CHARTS[kind]
        paths.append(Path(folder) / name)
        draw(results, paths[-1])
    return paths
