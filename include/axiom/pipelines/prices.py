"""Pipeline 1, price ingestion: fetch -> validate -> ledger -> Redis -> Neo4j -> Chroma -> announce.

Each step takes store clients and a run id. Fetched and validated batches wait as Parquet in the
run's landing folder (``{landing_dir}/price_ingestion/run-{id}/``, recorded on the run), so steps
hand each other ids, not data. Projections are computed from what the ledger holds for the run's
symbols, so any of them can be rebuilt from PostgreSQL alone and a re-run writes the same values.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from axiom import index
from axiom.sources.prices import PriceProvider, get_provider
from axiom.stores import cache, graph, ledger, vectors
from axiom.validation import SYMBOL_PATTERN, validate_bars

log = logging.getLogger(__name__)

PIPELINE = "price_ingestion"
DATASET = "price_bar"


@dataclass(frozen=True)
class IngestParams:
    """What to ingest. ``symbols`` None means the provider's whole universe; open dates mean all history."""

    provider: str = "offline"
    symbols: list[str] | None = None
    start: date | None = None
    end: date | None = None
    interval: str = "1d"

    @classmethod
    def parse(cls, *, provider: str, symbols=None, start=None, end=None, interval: str = "1d") -> IngestParams:
        """Check and normalise user input; raise ValueError with a message a user can act on."""
        if isinstance(symbols, str):
            symbols = [s for s in symbols.replace(",", " ").split() if s]
        symbols = [s.strip().upper() for s in symbols] if symbols else None
        bad = [s for s in symbols or [] if not SYMBOL_PATTERN.fullmatch(s)]
        if bad:
            raise ValueError(f"malformed symbols {bad}: use tickers such as AAPL, BRK-B or ^GSPC")
        start_d, end_d = _as_date(start, "start"), _as_date(end, "end")
        if start_d and end_d and start_d > end_d:
            raise ValueError(f"start {start_d} is after end {end_d}")
        return cls(
            provider=provider,
            symbols=sorted(set(symbols)) if symbols else None,
            start=start_d,
            end=end_d,
            interval=interval,
        )

    def as_json(self) -> dict:
        out = asdict(self)
        out["start"] = self.start.isoformat() if self.start else None
        out["end"] = self.end.isoformat() if self.end else None
        return out


def _as_date(value, name: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ValueError(f"{name} must be a date like 2022-01-31, got {value!r}") from None


def run_dir(landing_dir: Path, run_id: int) -> Path:
    return Path(landing_dir) / PIPELINE / f"run-{run_id}"


def _landable(frame: pd.DataFrame) -> pd.DataFrame:
    """Raw rows as Parquet can hold them: columns of mixed Python objects become text."""
    return frame.astype({c: "string" for c in frame.columns if frame[c].dtype == object})


def fetch(conn, params: IngestParams, *, landing_dir: Path, provider: PriceProvider | None = None) -> int:
    """Open a run, fetch raw bars into the landing folder, and return the run id."""
    provider = provider or get_provider(params.provider)
    run_id = ledger.start_run(conn, pipeline=PIPELINE, provider=provider.name, params=params.as_json())
    log.info(
        "run %d: fetching %s bars from %s for %s, %s to %s",
        run_id,
        params.interval,
        provider.name,
        params.symbols or "the whole universe",
        params.start or "the start",
        params.end or "the end",
    )
    raw = provider.fetch(params.symbols, params.start, params.end, params.interval)
    folder = run_dir(landing_dir, run_id)
    if folder.exists():
        shutil.rmtree(folder)  # left by an older ledger whose run ids were reset
    folder.mkdir(parents=True)
    _landable(raw).to_parquet(folder / "raw.parquet", index=False)
    stats = {"fetched": len(raw), "adjusted": provider.adjusted, "landing": str(folder.resolve())}
    ledger.update_run(conn, run_id, stats=stats)
    log.info("run %d: fetched %d rows", run_id, len(raw))
    return run_id


def landing(conn, run_id: int) -> Path:
    """The folder where the run's fetched and accepted rows wait."""
    return Path(ledger.get_run(conn, run_id)["stats"]["landing"])


def validate(conn, run_id: int) -> dict:
    """Split the run's raw rows: rejects to ``rejected_row`` with reasons, good rows on to loading."""
    folder = landing(conn, run_id)
    raw = pd.read_parquet(folder / "raw.parquet")
    accepted, rejects = validate_bars(raw)
    ledger.record_rejects(conn, run_id, DATASET, rejects)
    accepted.to_parquet(folder / "accepted.parquet", index=False)
    reasons = pd.Series(rejects.reasons, dtype="string").value_counts().to_dict() if len(rejects) else {}
    stats = {
        "accepted": len(accepted),
        "rejected": len(rejects),
        "reject_reasons": reasons,
        "symbols": sorted(accepted["symbol"].unique().tolist()),
    }
    ledger.update_run(conn, run_id, stats=stats)
    for reason, count in reasons.items():
        log.warning("run %d: rejected %d rows: %s", run_id, count, reason)
    log.info("run %d: %d rows accepted, %d rejected", run_id, len(accepted), len(rejects))
    return stats


def load(conn, run_id: int) -> dict:
    """Upsert the run's accepted bars into ``price_bar``."""
    run = ledger.get_run(conn, run_id)
    accepted = pd.read_parquet(Path(run["stats"]["landing"]) / "accepted.parquet")
    result = ledger.load_bars(
        conn, accepted, run_id=run_id, source=run["provider"], adjusted=bool(run["stats"].get("adjusted", True))
    )
    ledger.update_run(conn, run_id, stats={"load": result.as_dict()})
    return result.as_dict()


def _scope(conn, run_id: int) -> tuple[dict, list[str], str]:
    run = ledger.get_run(conn, run_id)
    return run, run["stats"].get("symbols", []), run["params"].get("interval", "1d")


def cache_latest(conn, redis_client, run_id: int, *, ttl_seconds: int) -> int:
    """Redis ``price:{SYMBOL}:latest`` from the ledger's newest bar of each of the run's symbols."""
    _, symbols, interval = _scope(conn, run_id)
    written = cache.cache_latest_prices(
        redis_client, ledger.latest_bars(conn, symbols, interval), ttl_seconds=ttl_seconds
    )
    log.info("run %d: cached %d latest prices", run_id, written)
    return written


def graph_stocks(conn, driver, run_id: int) -> int:
    """Neo4j ``Stock`` nodes with the ledger's latest close of each of the run's symbols."""
    _, symbols, interval = _scope(conn, run_id)
    merged = graph.merge_stocks(driver, ledger.latest_bars(conn, symbols, interval))
    log.info("run %d: merged %d Stock nodes", run_id, merged)
    return merged


def vectorise_patterns(conn, chroma_client, run_id: int, *, window: int) -> int:
    """Chroma price-pattern vectors for the weeks the run covered (daily bars only)."""
    run, symbols, interval = _scope(conn, run_id)
    if interval != "1d" or not symbols:
        log.info("run %d: no daily bars, no price patterns", run_id)
        return 0
    start, end = (date.fromisoformat(run["params"][k]) if run["params"].get(k) else None for k in ("start", "end"))
    records = index.pattern_records(conn, window=window, symbols=symbols, start=start, end=end)
    written = records.upsert(vectors.price_patterns(chroma_client))
    log.info("run %d: %d price-pattern vectors, %d written", run_id, len(records), written)
    return written


def announce(conn, redis_client, run_id: int) -> int:
    """Last: one ``price_updates`` message per symbol, then the run is marked succeeded."""
    _, symbols, interval = _scope(conn, run_id)
    messages = [
        {"symbol": b["symbol"], "close": b["close"], "ts": b["ts"].isoformat(), "interval": interval, "run_id": run_id}
        for b in ledger.latest_bars(conn, symbols, interval)
    ]
    sent = cache.publish(redis_client, cache.PRICE_UPDATES, messages)
    ledger.update_run(conn, run_id, stats={"announced": sent}, status="succeeded")
    log.info("run %d: announced %d symbols on %s", run_id, sent, cache.PRICE_UPDATES)
    return sent
