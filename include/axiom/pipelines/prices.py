"""Pipeline 1, price ingestion: fetch -> validate -> ledger -> Redis -> Neo4j -> Chroma -> announce.

Each step takes the ledger connection, the run id and the store clients it names. Fetched and
validated batches wait as Parquet in the run's landing folder (``{landing_dir}/price_ingestion/
run-{id}/``, recorded in the run's scope), so steps hand each other ids, not data. Projections are
computed from what the ledger holds for the run's symbols, so any of them can be rebuilt from
PostgreSQL alone and a re-run writes the same values.
"""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from axiom import index, reads
from axiom.analytics.sectors import HORIZONS, rotation_pairs, sector_history
from axiom.calendar import SCHEDULED_LOOKBACK, history_start
from axiom.models import NothingChanged
from axiom.pipelines.steps import Step, stamp
from axiom.sources.prices import PriceProvider, get_provider
from axiom.stores import cache, graph, ledger, vectors
from axiom.validation import parse_dates, parse_symbols, validate_bars

log = logging.getLogger(__name__)

PIPELINE = "price_ingestion"
DATASET = "price_bar"
REBASE_TOLERANCE = 1e-4
MIN_REBASED_BARS = 2


@dataclass(frozen=True)
class IngestParams:
    """What to ingest. ``symbols`` None means the provider's whole universe; open dates mean all history."""

    provider: str = "offline"
    symbols: list[str] | None = None
    start: date | None = None
    end: date | None = None
    interval: str = "1d"

    @classmethod
    def parse(cls, params: dict, *, scheduled_end: date | None = None) -> IngestParams:
        """Check and normalise a run's Params; a scheduled run without dates loads the week to ``scheduled_end``."""
        start, end = parse_dates(params.get("start"), params.get("end"))
        if scheduled_end and not (start or end):
            start, end = scheduled_end - SCHEDULED_LOOKBACK, scheduled_end
        return cls(
            provider=params.get("provider") or "offline",
            symbols=parse_symbols(params.get("symbols")),
            start=start,
            end=end,
            interval=params.get("interval") or "1d",
        )

    def as_json(self) -> dict:
        out = asdict(self)
        out["start"] = self.start.isoformat() if self.start else None
        out["end"] = self.end.isoformat() if self.end else None
        return out


def run_dir(landing_dir: Path, run_id: int) -> Path:
    return Path(landing_dir) / PIPELINE / f"run-{run_id}"


def _landable(frame: pd.DataFrame) -> pd.DataFrame:
    """Raw rows as Parquet can hold them: columns of mixed Python objects become text."""
    return frame.astype({c: "string" for c in frame.columns if frame[c].dtype == object})


def fetch(
    conn, params: IngestParams, *, landing_dir: Path, provider: PriceProvider | None = None, origin: str | None = None
) -> int:
    """Open a run (or reopen the one ``origin`` started), fetch raw bars into the landing folder; return the run id."""
    began = time.perf_counter()
    provider = provider or get_provider(params.provider, conn=conn)
    run_id = ledger.runs.start_run(
        conn, pipeline=PIPELINE, provider=provider.name, params=params.as_json(), origin=origin
    )
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
    ledger.runs.update_scope(
        conn,
        run_id,
        symbols=tuple(params.symbols or ()),
        interval=params.interval,
        start=params.start,
        end=params.end,
        landing=folder.resolve(),
        adjusted=provider.adjusted,
    )
    ledger.runs.add_stats(conn, run_id, {"fetched": len(raw)})
    log.info("run %d: fetched %d rows", run_id, len(raw))
    stamp(conn, run_id, "fetch", time.perf_counter() - began)
    return run_id


def validate(conn, run_id: int) -> dict:
    """Split the run's raw rows: rejects to ``rejected_row`` with reasons, good rows on to loading."""
    folder = ledger.runs.scope(conn, run_id).landing
    raw = pd.read_parquet(folder / "raw.parquet")
    accepted, rejects = validate_bars(raw)
    ledger.runs.record_rejects(conn, run_id, DATASET, rejects)
    accepted.to_parquet(folder / "accepted.parquet", index=False)
    reasons = pd.Series(rejects.reasons, dtype="string").value_counts().to_dict() if len(rejects) else {}
    ledger.runs.update_scope(conn, run_id, symbols=tuple(sorted(accepted["symbol"].unique().tolist())))
    stats = {"accepted": len(accepted), "rejected": len(rejects), "reject_reasons": reasons}
    ledger.runs.add_stats(conn, run_id, stats)
    for reason, count in reasons.items():
        log.warning("run %d: rejected %d rows: %s", run_id, count, reason)
    log.info("run %d: %d rows accepted, %d rejected", run_id, len(accepted), len(rejects))
    return stats


def find_rebases(fetched: pd.DataFrame, held: pd.DataFrame) -> list[ledger.prices.Rebase]:
    """Symbols whose history the provider re-based since the ledger stored it (a split or a dividend).

    On the sessions both hold, sorted by time, the fetched closes differ from the stored ones by one
    constant ratio on a leading run of at least ``MIN_REBASED_BARS`` sessions (within
    ``REBASE_TOLERANCE``) and agree on every later one: the provider multiplied everything before
    its event by that ratio. A single differing bar, or ratios that are not constant, are corrections
    and are simply upserted. Volume's factor is measured the same way (splits re-base volume too).
    """
    both = fetched.merge(held, on=["symbol", "interval", "ts"], suffixes=("", "_held"))
    found = []
    for (symbol, interval), group in both.groupby(["symbol", "interval"]):
        group = group.sort_values("ts")
        ratio = (group["close"] / group["close_held"]).to_numpy(dtype=float)
        differs = np.abs(ratio - 1) > REBASE_TOLERANCE
        lead = len(differs) if differs.all() else int(np.argmin(differs))
        if lead < MIN_REBASED_BARS or differs[lead:].any():
            continue
        factor = float(np.median(ratio[:lead]))
        if np.abs(ratio[:lead] / factor - 1).max() > REBASE_TOLERANCE:
            continue
        head = group.iloc[:lead]
        volumes = (head["volume"] / head["volume_held"]).to_numpy(dtype=float)
        volumes = volumes[np.isfinite(volumes) & (volumes > 0)]
        through = group["ts"].iloc[lead - 1].to_pydatetime()
        found.append(
            ledger.prices.Rebase(symbol, interval, through, factor, float(np.median(volumes)) if len(volumes) else 1.0)
        )
    return found


def load(conn, run_id: int) -> dict:
    """Upsert the run's accepted bars into ``price_bar``, first re-basing any history the provider re-based."""
    run = ledger.runs.get_run(conn, run_id)
    accepted = pd.read_parquet(run.scope.landing / "accepted.parquet")
    rebases = ()
    if not accepted.empty:
        held = ledger.prices.bars(
            conn,
            sorted(accepted["symbol"].unique()),
            interval=run.scope.interval,
            since=accepted["ts"].min().to_pydatetime(),
            until=accepted["ts"].max().to_pydatetime(),
        )
        rebases = tuple(find_rebases(accepted, held))
    result = ledger.prices.load_bars(
        conn, accepted, run_id=run_id, source=run.provider, adjusted=run.scope.adjusted, rebases=rebases
    )
    stats = {
        "load": result.as_dict(),
        "rebased": {
            r.symbol: {"factor": r.factor, "through": r.through.date().isoformat(), "volume_factor": r.volume_factor}
            for r in rebases
        },
    }
    ledger.runs.add_stats(conn, run_id, stats)
    changed = bool(result.inserted or result.updated or rebases)
    ledger.runs.update_scope(conn, run_id, changed=changed, rebased=tuple(r.symbol for r in rebases))
    return result.as_dict()


def _symbols(scope: ledger.runs.RunScope, chunk: list[str] | None) -> list[str]:
    """The run's symbols, or the chunk of them one mapped task was given (which must belong to the run)."""
    if chunk is None:
        return list(scope.symbols)
    foreign = sorted(set(chunk) - set(scope.symbols))
    if foreign:
        raise ValueError(f"symbols {foreign} are not in this run's scope")
    return list(chunk)


def cache_latest(conn, run_id: int, *, redis_client, ttl_seconds: int, symbols: list[str] | None = None) -> int:
    """Redis ``price:{SYMBOL}:latest`` from the ledger's newest bar of each of the run's symbols (or ``symbols``)."""
    scope = ledger.runs.scope(conn, run_id)
    latest = ledger.prices.latest_bars(conn, _symbols(scope, symbols), scope.interval)
    written = cache.cache_latest_prices(redis_client, latest, ttl_seconds=ttl_seconds)
    log.info("run %d: cached %d latest prices", run_id, written)
    return written


def graph_stocks(conn, run_id: int, *, driver, symbols: list[str] | None = None) -> int:
    """Neo4j ``Stock`` nodes with the ledger's latest close of each of the run's symbols (or ``symbols``)."""
    scope = ledger.runs.scope(conn, run_id)
    merged = graph.merge_stocks(driver, ledger.prices.latest_bars(conn, _symbols(scope, symbols), scope.interval))
    log.info("run %d: merged %d Stock nodes", run_id, merged)
    return merged


def vectorise_patterns(conn, run_id: int, *, chroma_client, window: int, symbols: list[str] | None = None) -> int:
    """Chroma price-pattern vectors for the weeks the run covered (daily bars only) of its symbols (or ``symbols``)."""
    scope = ledger.runs.scope(conn, run_id)
    chosen = _symbols(scope, symbols)
    if scope.interval != "1d" or not chosen:
        log.info("run %d: no daily bars, no price patterns", run_id)
        return 0
    records = index.pattern_records(conn, window=window, symbols=chosen, start=scope.start, end=scope.end)
    written = records.upsert(vectors.price_patterns(chroma_client))
    ledger.runs.add_counts(conn, run_id, {"vectorised": written})
    log.info("run %d: %d price-pattern vectors of %d symbols, %d written", run_id, len(records), len(chosen), written)
    return written


def record_sector_momentum(conn, run_id: int) -> int:
    """Ledger ``sector_momentum`` for the sessions the run's bars can move: from its first session on
    (every session after a re-base, or for a run without a start date)."""
    scope = ledger.runs.scope(conn, run_id)
    return refresh_sector_momentum(conn, run_id, since=None if scope.rebased else scope.start)


def refresh_sector_momentum(conn, run_id: int, *, since: date | None) -> int:
    """Recompute ``sector_momentum`` from ``since`` on (None: every session) from the ledger's closes of
    the companies' members; return the rows written."""
    sectors = {c.symbol: c.sector for c in ledger.companies.latest_companies(conn)}
    closes = ledger.prices.closes(conn, sorted(sectors), since=history_start(since, max(HORIZONS)))
    history = sector_history(closes.pivot(index="ts", columns="symbol", values="close"), sectors)
    if since is not None:
        history = history[history.index.get_level_values("session") >= pd.Timestamp(since, tz="UTC")]
    written = ledger.sectors.replace_from(conn, history, since=since, run_id=run_id)
    log.info("run %d: sector momentum of %d sessions from %s", run_id, written, since or "the start")
    return written


def cache_sector_momentum(conn, run_id: int, *, redis_client, ttl_seconds: int) -> int:
    """Redis ``sector:momentum:latest``: every sector's returns, relative strength and rotation score at the
    ledger's newest session (the cached scores the rotation question reads), refreshed whenever prices load."""
    value = reads.sector_momentum(conn)
    if value is None:
        log.info("run %d: no sector momentum yet (no companies, or under %d sessions)", run_id, max(HORIZONS) + 1)
        return 0
    cache.cache_json(redis_client, {cache.SECTOR_MOMENTUM: value}, ttl_seconds=ttl_seconds)
    log.info("run %d: sector momentum of %d sectors at %s", run_id, len(value["sectors"]), value["as_of"])
    return len(value["sectors"])


def rotation_rows(conn, since: date | None = None) -> list[dict]:
    """Every session's rotation pairs from ``since`` on (all when None), from the ledger's ``sector_momentum``:
    the ``ROTATES_TO`` edges the graph holds."""
    history = ledger.sectors.since(conn, since)
    return [
        {**pair, "as_of": session.isoformat()}
        for session, table in history.groupby(level="session", sort=True)
        for pair in rotation_pairs(table.droplevel("session"))
    ]


def graph_rotation(conn, run_id: int, *, driver) -> int:
    """Neo4j ``ROTATES_TO`` edges of the sessions whose sector momentum the run recomputed (every session
    after a re-base, or for a run without a start date: the company graph's)."""
    scope = ledger.runs.scope(conn, run_id)
    since = None if scope.rebased else scope.start
    drawn = graph.replace_rotation(driver, rotation_rows(conn, since), since=since)
    log.info("run %d: %d rotation edges from %s", run_id, drawn, since or "the start")
    return drawn


def vectorise_sector_profiles(conn, run_id: int, *, chroma_client) -> int:
    """Chroma sector-rotation profiles for the month-ends the run covered."""
    scope = ledger.runs.scope(conn, run_id)
    records = index.sector_profile_records(conn, start=scope.start, end=scope.end)
    written = records.upsert(vectors.sector_profiles(chroma_client)) if len(records) else 0
    log.info("run %d: %d sector profiles, %d written", run_id, len(records), written)
    return written


def announce(conn, run_id: int, *, redis_client) -> int:
    """Last: one ``price_updates`` message per symbol, then the run is marked succeeded.

    A run that loaded no new or changed bar says so (``no_new_data``), announces nothing and raises
    ``NothingChanged``, so no one downstream reacts to old data (offline history ends 2022-12-28).
    """
    scope = ledger.runs.scope(conn, run_id)
    if not scope.changed:
        ledger.runs.finish(conn, run_id, "succeeded", {"announced": 0, "no_new_data": True})
        log.info("run %d: no new data: nothing announced", run_id)
        raise NothingChanged(f"run {run_id}: no new data, every bar unchanged")
    messages = [
        {
            "symbol": b["symbol"],
            "close": b["close"],
            "ts": b["ts"].isoformat(),
            "interval": scope.interval,
            "run_id": run_id,
        }
        for b in ledger.prices.latest_bars(conn, scope.symbols, scope.interval)
    ]
    sent, received = cache.publish(redis_client, cache.PRICE_UPDATES, messages)
    ledger.runs.finish(conn, run_id, "succeeded", {"announced": sent, "received": received})
    log.info("run %d: announced %d symbols on %s (%d deliveries)", run_id, sent, cache.PRICE_UPDATES, received)
    return sent


STEPS = (
    Step(validate, "landing"),
    Step(load, "postgres"),
    Step(cache_latest, "redis", {"ttl_seconds": "latest_price_ttl"}, after=("load",)),
    Step(graph_stocks, "neo4j", fan_out=True, after=("load",)),
    Step(vectorise_patterns, "chroma", {"window": "pattern_window"}, fan_out=True, after=("load",)),
    Step(record_sector_momentum, "postgres", after=("load",)),
    Step(cache_sector_momentum, "redis", {"ttl_seconds": "latest_price_ttl"}),
    Step(graph_rotation, "neo4j", after=("record_sector_momentum",)),
    Step(vectorise_sector_profiles, "chroma", after=("load",)),
    Step(announce, "pubsub", after=("cache_latest", "graph_stocks", "vectorise_patterns", "cache_sector_momentum",
                                    "graph_rotation", "vectorise_sector_profiles")),
)  # fmt: skip
"""After ``fetch`` opens the run: validate, load, then the projections side by side (the per-symbol ones
fanned out over symbol chunks, except the latest prices: one pipelined Redis write of every symbol, the live
path's first hop, so it starts right after the load instead of waiting for the chunks), the announcement last."""
