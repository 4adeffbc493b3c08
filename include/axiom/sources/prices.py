"""Price providers behind one interface.

* ``offline`` (default): real daily adjusted closes of 20 large US stocks, 1990-01-02 to
  2022-12-28, shipped by ``skfolio.datasets.load_sp500_dataset()``. The source has no open,
  high, low or volume: those columns stay empty (NULL in the ledger), never invented.
* ``yfinance``: live Yahoo Finance bars, batched, adjusted (``auto_adjust=True``), with
  timezone-aware timestamps and backoff on rate limits.
* ``synthetic``: the simulated universe ``python -m axiom synth`` wrote (``axiom.sources.synthetic``),
  full OHLCV, for scale tests only: not market data.
* ``replay``: the sessions a replay (``axiom.replay``) has released, from its source (``offline`` or
  ``synthetic``), and nothing after its clock: the pipelines see the market as it stood at that session.

A provider returns a raw long frame with ``symbol, interval, ts, open, high, low, close,
volume``. Daily bars carry their session date at 00:00 UTC; intraday bars their start in UTC.
Validation happens later, on every provider's output alike.
"""

from __future__ import annotations

import importlib.util
import logging
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Protocol

import pandas as pd

from axiom.config import Settings
from axiom.sources import synthetic
from axiom.stores.ledger import live
from axiom.validation import BAR_COLUMNS

log = logging.getLogger(__name__)


SP500_FILE = "sp500_dataset.csv.gz"  # skfolio's daily adjusted closes of 20 large US stocks


class ProviderError(RuntimeError):
    """A provider could not deliver, after its retries; the message says what to do."""


class PriceProvider(Protocol):
    name: str
    adjusted: bool

    def fetch(
        self, symbols: list[str] | None, start: date | None, end: date | None, interval: str = "1d"
    ) -> pd.DataFrame: ...

    def universe(self) -> list[str]: ...


def _in_range(frame: pd.DataFrame, start: date | None, end: date | None) -> pd.DataFrame:
    ts = frame["ts"]
    keep = pd.Series(True, index=frame.index)
    if start is not None:
        keep &= ts >= pd.Timestamp(start, tz="UTC")
    if end is not None:
        keep &= ts < pd.Timestamp(end, tz="UTC") + pd.Timedelta(days=1)
    return frame[keep]


@dataclass
class OfflineProvider:
    """Real history shipped by skfolio (adjusted closes only)."""

    name: str = "offline"
    adjusted: bool = True

    def _closes(self) -> pd.DataFrame:
        """``skfolio.datasets.load_sp500_dataset()``, read from the file the package ships without importing
        skfolio (its import pulls scikit-learn and SciPy: seconds that every price task paid before its work)."""
        [package] = importlib.util.find_spec("skfolio").submodule_search_locations
        closes = pd.read_csv(Path(package) / "datasets" / "data" / SP500_FILE, index_col=0)
        closes.index = pd.to_datetime(closes.index, format="%Y-%m-%d")
        return closes

    def universe(self) -> list[str]:
        return sorted(self._closes().columns)

    def fetch(self, symbols, start, end, interval="1d") -> pd.DataFrame:
        if interval != "1d":
            raise ProviderError(f"the offline provider has daily bars only, not {interval!r}")
        closes = self._closes()
        wanted = list(symbols) if symbols else list(closes.columns)
        unknown = sorted(set(wanted) - set(closes.columns))
        if unknown:
            log.warning("offline provider has no history for %s; known: %s", unknown, sorted(closes.columns))
        present = [s for s in wanted if s in closes.columns]
        long = closes[present].rename_axis("ts").reset_index().melt(id_vars="ts", var_name="symbol", value_name="close")
        long["ts"] = pd.to_datetime(long["ts"]).dt.tz_localize("UTC")
        long["interval"] = "1d"
        for column in ("open", "high", "low", "volume"):
            long[column] = float("nan")
        frame = _in_range(long, start, end)
        return frame.reindex(columns=BAR_COLUMNS).reset_index(drop=True)


@dataclass
class SyntheticProvider:
    """The simulated universe in the synthetic folder (default ``AXIOM_SYNTHETIC_DIR``): not real prices."""

    name: str = "synthetic"
    adjusted: bool = True
    folder: Path | None = None

    def _folder(self) -> Path:
        return self.folder or Settings.from_env().synthetic_dir

    def universe(self) -> list[str]:
        return synthetic.manifest(self._folder())["symbols"]

    def fetch(self, symbols, start, end, interval="1d") -> pd.DataFrame:
        if interval != "1d":
            raise ProviderError(f"the synthetic provider has daily bars only, not {interval!r}")
        try:
            bars = synthetic.read_bars(self._folder(), symbols)
        except FileNotFoundError as missing:
            raise ProviderError(str(missing)) from None
        unknown = sorted(set(symbols or ()) - set(bars["symbol"].unique()))
        if unknown:
            log.warning("the synthetic universe has no %s", unknown)
        frame = _in_range(bars.assign(interval="1d"), start, end)
        return frame.reindex(columns=BAR_COLUMNS).reset_index(drop=True)


@dataclass
class YFinanceProvider:
    """Live bars from Yahoo Finance via ``yfinance.download`` (one batched call per attempt)."""

    name: str = "yfinance"
    adjusted: bool = True
    attempts: int = 4
    backoff_seconds: float = 2.0
    default_universe: tuple[str, ...] = (
        "AAPL",
        "AMD",
        "BAC",
        "BBY",
        "CVX",
        "GE",
        "HD",
        "JNJ",
        "JPM",
        "KO",
        "LLY",
        "MRK",
        "MSFT",
        "PEP",
        "PFE",
        "PG",
        "RRC",
        "UNH",
        "WMT",
        "XOM",
    )

    def universe(self) -> list[str]:
        return list(self.default_universe)

    def fetch(self, symbols, start, end, interval="1d") -> pd.DataFrame:
        import yfinance
        from yfinance.exceptions import YFRateLimitError

        pending = sorted(set(symbols or self.universe()))
        frames: list[pd.DataFrame] = []
        for attempt in range(1, self.attempts + 1):
            try:
                raw = yfinance.download(
                    pending,
                    start=start,
                    end=None if end is None else end + timedelta(days=1),
                    interval=interval,
                    auto_adjust=True,
                    ignore_tz=False,
                    group_by="column",
                    threads=True,
                    progress=False,
                    multi_level_index=True,
                )
            except YFRateLimitError as exc:
                log.warning("yfinance rate limit on attempt %d/%d: %s", attempt, self.attempts, exc)
                raw = None
            got = parse_yfinance_frame(raw, interval) if raw is not None else pd.DataFrame(columns=BAR_COLUMNS)
            if not got.empty:
                frames.append(got)
            pending = sorted(set(pending) - set(got["symbol"]))
            if not pending:
                break
            if attempt < self.attempts:
                delay = self.backoff_seconds * 2 ** (attempt - 1)
                log.warning("yfinance returned nothing for %s; retrying in %.0fs", pending, delay)
                time.sleep(delay)
        if pending and not frames:
            raise ProviderError(
                f"Yahoo Finance returned no bars for {pending} after {self.attempts} attempts "
                "(rate-limited, unknown symbols, or no network). Try again later, or run with provider=offline."
            )
        if pending:
            log.warning("Yahoo Finance returned no bars for %s after %d attempts", pending, self.attempts)
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=BAR_COLUMNS)


def parse_yfinance_frame(raw: pd.DataFrame, interval: str) -> pd.DataFrame:
    """Turn ``yfinance.download`` output (columns ``(Price, Ticker)``, tz-aware index) into long bars."""
    if raw is None or raw.empty:
        return pd.DataFrame(columns=BAR_COLUMNS)
    if not isinstance(raw.columns, pd.MultiIndex):
        raise ProviderError("unexpected yfinance frame: expected (Price, Ticker) MultiIndex columns")
    long = raw.stack(level=1, future_stack=True).rename_axis(["ts", "symbol"]).reset_index()
    long = long.rename(columns={c: str(c).lower() for c in long.columns})
    long = long.dropna(subset=["open", "high", "low", "close"], how="all")
    ts = pd.DatetimeIndex(long["ts"])
    if ts.tz is None:
        raise ProviderError("yfinance returned naive timestamps; expected timezone-aware (ignore_tz=False)")
    if interval.endswith(("d", "wk", "mo")):
        # a daily/weekly/monthly bar is its session date in the exchange's zone, kept at 00:00 UTC
        long["ts"] = pd.to_datetime(ts.tz_localize(None).normalize()).tz_localize("UTC")
    else:
        long["ts"] = ts.tz_convert("UTC")
    long["interval"] = interval
    return long.reindex(columns=BAR_COLUMNS).reset_index(drop=True)


@dataclass
class ReplayProvider:
    """The current replay's source (``live.current``), served only up to the replay's clock: a session the
    clock has not reached does not exist yet. Before the first release it serves nothing."""

    conn: object
    name: str = "replay"
    adjusted: bool = True

    def _replay(self) -> live.Replay:
        replay = live.current(self.conn)
        if replay is None:
            raise ProviderError("no replay on these stores: start one with `python -m axiom replay`")
        return replay

    def universe(self) -> list[str]:
        return list(self._replay().symbols)

    def fetch(self, symbols, start, end, interval="1d") -> pd.DataFrame:
        replay = self._replay()
        if replay.clock is None or (start is not None and start > replay.clock):
            log.info("replay %d: nothing released after %s yet", replay.replay_id, replay.clock)
            return pd.DataFrame(columns=BAR_COLUMNS)
        until = replay.clock if end is None else min(end, replay.clock)
        return get_provider(replay.source).fetch(list(symbols or replay.symbols), start, until, interval)


PROVIDERS = {"offline": OfflineProvider, "yfinance": YFinanceProvider, "synthetic": SyntheticProvider}
REPLAY_SOURCES = ("offline", "synthetic")  # what a replay may release: history that is already whole


def get_provider(name: str, *, conn=None) -> PriceProvider:
    """The provider registered under ``name`` (``offline``, ``yfinance``, ``synthetic``; ``replay`` reads its
    clock from the ledger ``conn``)."""
    if name == "replay":
        if conn is None:
            raise ProviderError("the replay provider reads the replay's clock from the ledger: pass conn")
        return ReplayProvider(conn)
    try:
        return PROVIDERS[name]()
    except KeyError:
        choices = sorted([*PROVIDERS, "replay"])
        raise ProviderError(f"unknown price provider {name!r}; choose one of {choices}") from None
