"""A synthetic universe for scale tests: simulated prices and companies, never real market data.

``python -m axiom synth --symbols 500 --years 10 --seed 7`` writes it under the synthetic folder
(``AXIOM_SYNTHETIC_DIR``); the ``synthetic`` price provider and fundamentals source read it back.
It is named synthetic everywhere it lands: symbols ``SYN0001``… (letters then four digits, a
form no exchange lists), provider and source ``synthetic``, names and descriptions that say so.

Daily returns come from a factor model, deterministic for a seed:

    r[t, i] = mu_i + beta_i * m[t] + gamma_i * s[t, sector(i)] + e[t, i]

* ``m``: the market factor, with a two-state volatility regime (calm / turbulent, Markov
  switching) and a few crashes (a multi-day drawdown of 10-25% that forces the turbulent regime);
* ``s``: one factor per sector, also regime-dependent, so stocks of a sector co-move;
* ``e``: idiosyncratic Student-t noise (fat tails) plus rare jumps (abnormal moves).

OHLCV follows from the close path: the open gaps from the previous close, high and low extend
beyond the open-close body, volume grows with the size of the move. About one symbol in twelve
lists after the first session (no bars before), so histories differ in length.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

PREFIX = "SYN"
END = date(2022, 12, 30)  # a fixed last session: the same seed writes the same universe on any day
SOURCE = "synthetic: simulated by python -m axiom synth, not real market data"

# sector -> (industry, what a company of it does), GICS sector and industry names as categories only
SECTORS: dict[str, list[tuple[str, str]]] = {
    "Information Technology": [
        ("Semiconductors", "designs chips for data centres, phones and cars"),
        ("Software", "sells business software by subscription"),
        ("Technology Hardware, Storage & Peripherals", "builds computers, storage and networking gear"),
    ],
    "Health Care": [
        ("Pharmaceuticals", "develops and markets prescription medicines"),
        ("Health Care Providers & Services", "runs clinics and manages health insurance plans"),
        ("Health Care Equipment & Supplies", "makes medical devices and hospital supplies"),
    ],
    "Financials": [
        ("Banks", "takes deposits and lends to households and businesses"),
        ("Capital Markets", "runs trading, asset management and advisory businesses"),
        ("Insurance", "underwrites property, casualty and life insurance"),
    ],
    "Consumer Discretionary": [
        ("Specialty Retail", "operates stores and online shops for home and leisure goods"),
        ("Hotels, Restaurants & Leisure", "runs restaurants, hotels and travel services"),
        ("Automobiles", "designs and assembles passenger cars"),
    ],
    "Consumer Staples": [
        ("Beverages", "brews and bottles soft drinks and beer"),
        ("Household Products", "makes cleaning and personal-care products"),
        ("Food Products", "processes and packages food brands"),
    ],
    "Energy": [
        ("Oil, Gas & Consumable Fuels", "explores for and produces oil and natural gas"),
        ("Energy Equipment & Services", "provides drilling rigs and oilfield services"),
    ],
    "Industrials": [
        ("Aerospace & Defense", "builds aircraft parts and defence systems"),
        ("Machinery", "manufactures industrial and farm machinery"),
        ("Ground Transportation", "runs freight railroads and trucking fleets"),
    ],
    "Materials": [
        ("Chemicals", "produces industrial and specialty chemicals"),
        ("Metals & Mining", "mines and refines copper, iron ore and gold"),
    ],
    "Utilities": [
        ("Electric Utilities", "generates and distributes electricity under regulation"),
        ("Multi-Utilities", "distributes electricity and natural gas"),
    ],
    "Real Estate": [
        ("Specialized REITs", "owns data centres, towers and warehouses"),
        ("Residential REITs", "owns and rents apartment buildings"),
    ],
    "Communication Services": [
        ("Interactive Media & Services", "runs search, social and advertising platforms"),
        ("Diversified Telecommunication Services", "operates fixed and mobile networks"),
    ],
}

# daily volatilities (calm, turbulent) and the regime's persistence
MARKET_VOL = (0.008, 0.022)
MARKET_DRIFT = (0.0006, -0.0010)
SECTOR_VOL = (0.008, 0.014)
STAY = (0.99, 0.95)
IDIO_TURBULENCE = 1.5
JUMP_RATE = 1 / 400  # per stock and session
LATE_LISTING_SHARE = 1 / 12


@dataclass(frozen=True)
class Universe:
    """Bars (long: symbol, ts, open, high, low, close, volume), companies (fundamentals rows) and what made them."""

    bars: pd.DataFrame
    companies: pd.DataFrame
    manifest: dict


def symbol_name(number: int) -> str:
    return f"{PREFIX}{number:04d}"


def _regimes(rng: np.random.Generator, sessions: int, crashes: list[tuple[int, int]]) -> np.ndarray:
    """0 calm, 1 turbulent: a two-state Markov chain, turbulent for 60 sessions from each crash."""
    regime = np.zeros(sessions, dtype=np.int8)
    draws = rng.random(sessions)
    for t in range(1, sessions):
        regime[t] = regime[t - 1] if draws[t] < STAY[regime[t - 1]] else 1 - regime[t - 1]
    for start, length in crashes:
        regime[start : start + length + 60] = 1
    return regime


def generate(symbols: int = 500, years: int = 10, seed: int = 7) -> Universe:
    """The universe for a seed: the same arguments give the same frames, bit for bit."""
    if not 1 <= symbols <= 9999:
        raise ValueError(f"symbols must be between 1 and 9999, got {symbols}")
    if not 1 <= years <= 40:
        raise ValueError(f"years must be between 1 and 40, got {years}")
    rng = np.random.default_rng(seed)
    first = pd.Timestamp(END) - pd.DateOffset(years=years) + pd.Timedelta(days=1)
    calendar = pd.bdate_range(first, END, tz="UTC")  # weekdays: a simulation has no holidays
    sessions = len(calendar)
    names = [symbol_name(k) for k in range(1, symbols + 1)]
    sector_names = list(SECTORS)
    weights = rng.uniform(0.5, 1.5, len(sector_names))
    sector_of = rng.choice(len(sector_names), size=symbols, p=weights / weights.sum())
    industry_of = np.array([rng.integers(len(SECTORS[sector_names[s]])) for s in sector_of])

    crash_count = max(1, years // 3)
    starts = np.sort(rng.choice(np.arange(60, sessions - 80, 40), size=crash_count, replace=False))
    crashes = [(int(s), int(rng.integers(3, 8))) for s in starts]
    regime = _regimes(rng, sessions, crashes)
    market = np.take(MARKET_DRIFT, regime) + np.take(MARKET_VOL, regime) * rng.standard_normal(sessions)
    for start, length in crashes:
        depth = rng.uniform(0.10, 0.25)
        market[start : start + length] += np.log1p(-depth) / length
    sector = np.take(SECTOR_VOL, regime)[:, None] * rng.standard_normal((sessions, len(sector_names)))

    beta = rng.uniform(0.6, 1.5, symbols)
    gamma = rng.uniform(0.6, 1.4, symbols)
    idio_vol = rng.uniform(0.010, 0.025, symbols)
    drift = rng.normal(0.0002, 0.0003, symbols)
    scale = np.where(regime == 1, IDIO_TURBULENCE, 1.0)[:, None] * idio_vol
    noise = rng.standard_t(4, (sessions, symbols)) / np.sqrt(2.0) * scale
    jumps = (rng.random((sessions, symbols)) < JUMP_RATE) * rng.normal(0, 0.10, (sessions, symbols))
    returns = drift + beta * market[:, None] + gamma * sector[:, sector_of] + noise + jumps
    log_close = np.log(rng.uniform(10, 300, symbols)) + np.cumsum(np.log1p(np.maximum(returns, -0.6)), axis=0)
    close = np.exp(log_close)

    sigma = np.sqrt((beta * np.take(MARKET_VOL, regime)[:, None]) ** 2 + scale**2)
    previous = np.vstack([close[:1], close[:-1]])
    open_ = previous * np.exp(rng.normal(0, 0.25, (sessions, symbols)) * sigma)
    wick = np.abs(rng.normal(0, 0.5, (2, sessions, symbols))) * sigma
    high = np.maximum(open_, close) * np.exp(wick[0])
    low = np.minimum(open_, close) * np.exp(-wick[1])
    move = np.abs(np.log(close / previous)) / sigma
    base_volume = np.exp(rng.normal(14, 1.0, symbols))
    volume = np.maximum(1, np.round(base_volume * np.exp(rng.normal(0, 0.3, (sessions, symbols))) * (1 + 0.5 * move)))

    listed = np.zeros(symbols, dtype=int)
    late = rng.random(symbols) < LATE_LISTING_SHARE
    listed[late] = rng.integers(int(0.1 * sessions), int(0.7 * sessions), late.sum())
    keep = np.arange(sessions)[:, None] >= listed[None, :]
    rows, cols = np.nonzero(keep)
    open_r, close_r = np.round(open_, 4), np.round(close, 4)
    bars = pd.DataFrame(
        {
            "symbol": np.array(names)[cols],
            "ts": calendar[rows],
            "open": open_r[rows, cols],
            "high": np.maximum(np.round(high, 4), np.maximum(open_r, close_r))[rows, cols],
            "low": np.minimum(np.round(low, 4), np.minimum(open_r, close_r))[rows, cols],
            "close": close_r[rows, cols],
            "volume": volume[rows, cols].astype(np.int64),
        }
    ).sort_values(["symbol", "ts"], kind="stable", ignore_index=True)
    companies = _companies(rng, names, [sector_names[s] for s in sector_of], industry_of, seed, calendar[-1].date())
    manifest = {
        "synthetic": True,
        "note": "simulated data for scale tests; not real companies or prices",
        "seed": seed,
        "symbols": names,
        "years": years,
        "first_session": calendar[0].date().isoformat(),
        "last_session": calendar[-1].date().isoformat(),
        "crashes": [calendar[s].date().isoformat() for s, _ in crashes],
        "turbulent_share": round(float(regime.mean()), 4),
        "late_listings": int(late.sum()),
        "bars": len(bars),
        "model": "r = mu + beta*market + gamma*sector + t(4) noise + jumps; 2-state volatility regime; crashes",
    }
    return Universe(bars, companies, manifest)


def _companies(rng, names, sectors, industry_of, seed: int, as_of: date) -> pd.DataFrame:
    """One fundamentals row per symbol; every name and description says the company is synthetic."""
    cap = np.round(np.exp(rng.normal(np.log(10e9), 1.2, len(names))), -6)
    debt = np.round(np.exp(rng.normal(np.log(0.8), 0.6, len(names))), 2)
    rows = []
    for k, (symbol, sector, i) in enumerate(zip(names, sectors, industry_of, strict=True)):
        industry, activity = SECTORS[sector][i]
        size = "large" if cap[k] >= 20e9 else "mid-sized" if cap[k] >= 4e9 else "small"
        rows.append(
            {
                "symbol": symbol,
                "name": f"Synthetic Company {symbol[len(PREFIX) :]}",
                "sector": sector,
                "industry": industry,
                "description": (
                    f"Synthetic company generated by Axiom for scale tests (seed {seed}); not a real business, "
                    f"and its prices are simulated. In the simulation it is a {size} {industry} company in the "
                    f"{sector} sector that {activity}."
                ),
                "market_cap_usd": int(cap[k]),
                "debt_to_equity": float(debt[k]),
                "as_of": as_of.isoformat(),
                "source": SOURCE,
            }
        )
    return pd.DataFrame(rows)


def write(universe: Universe, folder: Path) -> Path:
    """Parquet bars and companies plus a JSON manifest in ``folder`` (replacing what was there)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    universe.bars.to_parquet(folder / "bars.parquet", index=False)
    universe.companies.to_parquet(folder / "companies.parquet", index=False)
    (folder / "manifest.json").write_text(json.dumps(universe.manifest, indent=1))
    return folder


def _require(folder: Path, name: str) -> Path:
    path = Path(folder) / name
    if not path.exists():
        raise FileNotFoundError(
            f"no synthetic universe in {folder}: write one with `python -m axiom synth --symbols 500 --years 10`"
        )
    return path


def manifest(folder: Path) -> dict:
    return json.loads(_require(folder, "manifest.json").read_text())


def read_bars(folder: Path, symbols: list[str] | None = None) -> pd.DataFrame:
    """The universe's bars (of ``symbols``, or all)."""
    filters = [("symbol", "in", list(symbols))] if symbols else None
    return pd.read_parquet(_require(folder, "bars.parquet"), filters=filters)


def read_companies(folder: Path, symbols: list[str] | None = None) -> list[dict]:
    """The universe's fundamentals rows (of ``symbols``, or all)."""
    frame = pd.read_parquet(_require(folder, "companies.parquet"))
    if symbols:
        frame = frame[frame["symbol"].isin(symbols)]
    return frame.to_dict(orient="records")
