"""The ledger's promise, checkable: what Redis, Neo4j and ChromaDB should hold, compared with what they hold
(``doctor``), and each projection rebuilt from PostgreSQL alone (``rebuild``).

What a store should hold comes from the same builders the pipelines' steps write with, so the check
and the writers cannot disagree about the shape. Compared are values, not only counts:

* Redis: every symbol's latest price (value and bar time), company metadata, the recent-event sets,
  the correlation matrix and top pairs, sector momentum. Answers (``insight:*``) and the signal
  stream are deliveries, not projections, and are left out. A cache key past its TTL shows as missing.
* Neo4j: Stock and Company nodes with their properties, BELONGS_TO, COMPETES_WITH (the latest
  snapshot), MarketEvent nodes, AFFECTED_BY, AFFECTS, CORRELATED_WITH (each window's latest as-of).
  ROTATES_TO edges are drawn by the rotation answer and are not checked.
* Chroma: every collection's ids, metadata, documents, digests and vectors.

A rebuild empties the store's projections and runs the pipelines' own projection steps on a run whose
scope is the whole ledger (pipeline ``rebuild``), so it writes exactly what the pipelines would.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np

from axiom import index
from axiom.config import Settings
from axiom.pipelines import companies, correlations, events, prices
from axiom.stores import cache, graph, ledger, vectors
from axiom.stores.ledger.runs import RunScope

log = logging.getLogger(__name__)

STORES = ("redis", "neo4j", "chroma")
EXAMPLES = 5


@dataclass
class Drift:
    """How one kind of projected thing differs from the ledger: keys missing, extra, or with other values."""

    store: str
    kind: str
    expected: int
    held: int
    missing: list = field(default_factory=list)
    extra: list = field(default_factory=list)
    different: list = field(default_factory=list)

    @property
    def drifted(self) -> bool:
        return bool(self.missing or self.extra or self.different)

    def as_dict(self) -> dict:
        out = {"store": self.store, "kind": self.kind, "expected": self.expected, "held": self.held}
        for name in ("missing", "extra", "different"):
            found = getattr(self, name)
            out[name] = len(found)
            if found:
                out[f"{name}_examples"] = [str(k) for k in found[:EXAMPLES]]
        return out


def _plain(value):
    """A comparable form: floats to 9 places, dates and times (Python or Neo4j) as ISO text, JSON shapes kept."""
    if hasattr(value, "to_native"):
        value = value.to_native()
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float | np.floating):
        return None if not np.isfinite(value) else round(float(value), 9)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value)


def compare(store: str, kind: str, expected: dict, held: dict) -> Drift:
    """Compare two {key: value} maps after ``_plain``."""
    expected = {k: _plain(v) for k, v in expected.items()}
    held = {k: _plain(v) for k, v in held.items()}
    return Drift(
        store,
        kind,
        len(expected),
        len(held),
        missing=sorted(set(expected) - set(held), key=str),
        extra=sorted(set(held) - set(expected), key=str),
        different=sorted((k for k in set(expected) & set(held) if expected[k] != held[k]), key=str),
    )


# --- what each store should hold, from the ledger


def _json(value) -> object:
    """A value as the cache stores it (``cache.cache_json`` serialises with ``default=str``)."""
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def _correlation_windows(conn) -> list[tuple[int, list[date]]]:
    """Each stored correlation window with its as-of dates; windows whose newest as-of is oldest come first
    (the newest is cached last, as the pipelines would leave it)."""
    return sorted(ledger.correlations.as_of_dates(conn).items(), key=lambda item: (item[1][-1], item[0]))


def expected_redis(conn) -> dict[str, dict]:
    """Per key family, key -> value (sorted sets: member -> score) that the ledger implies."""
    priced = ledger.prices.symbols(conn)
    matrix: dict[str, dict] = {}
    for window, as_ofs in _correlation_windows(conn):
        matrix |= correlations.matrix_items(conn, priced, window=window, as_of=as_ofs[-1])
    recent = {
        key: dict(sorted(members.items(), key=lambda m: (m[1], m[0]), reverse=True)[: events.RECENT_EVENTS_KEPT])
        for key, members in events.recent_scores(ledger.events.market_events(conn)).items()
    }
    momentum = prices.sector_momentum(conn)
    return {
        "price:*:latest": _json(cache.latest_price_items(ledger.prices.latest_bars(conn, priced))),
        "company:*:metadata": _json(companies.metadata_items(conn)),
        "market_event:*:recent": recent,
        "correlation:*": _json(matrix),
        cache.SECTOR_MOMENTUM: _json({cache.SECTOR_MOMENTUM: momentum} if momentum else {}),
    }


def expected_graph(conn) -> dict[str, dict]:
    """Per node label or relationship type, key -> properties that the ledger implies."""
    bars = ledger.prices.latest_bars(conn, ledger.prices.symbols(conn))
    facts = companies.company_rows(conn, ledger.companies.symbols(conn))
    event_rows, exposures = events.graph_rows(conn, None)
    correlated = {}
    for window, as_ofs in _correlation_windows(conn):
        for r in ledger.correlations.correlations(conn, window=window, as_ofs=as_ofs[-1:]):
            correlated[r["a"], r["b"], window] = [r["coefficient"], r["as_of"], r["explanation"], r["observations"]]
    pairs = ledger.companies.competing_pairs(conn, [c["symbol"] for c in facts])
    # a Stock node per priced symbol, and (without a price) per company or event symbol that has none
    stocks = {s: [None] * 4 for s in {c["symbol"] for c in facts} | {e["symbol"] for e in event_rows if e["symbol"]}}
    stocks |= {r["symbol"]: [r["close"], r["ts"], r["session"], r["adjusted"]] for r in graph.stock_rows(bars)}
    return {
        "Stock": stocks,
        "Company": {
            c["symbol"]: [c["name"], c["industry"], c["market_cap_usd"], c["debt_to_equity"], c["as_of"], [c["sector"]]]
            for c in facts
        },
        "COMPETES_WITH": {(p["a"], p["b"]): [p["intensity"], p["analyst"], p["as_of"]] for p in pairs},
        "MarketEvent": {
            e["event_id"]: [e["event_type"], e["date"], e["title"], e["source"], e["impact"], e["sentiment"]]
            for e in event_rows
        },
        "AFFECTED_BY": {(e["symbol"], e["event_id"]): e["impact"] for e in event_rows if e["symbol"]},
        "AFFECTS": {(x["event_id"], x["sector"]): [x["sensitivity"], x["observations"]] for x in exposures},
        "CORRELATED_WITH": correlated,
    }


# --- the check


def check_redis(conn, redis_client) -> list[Drift]:
    expected = expected_redis(conn)
    held = cache.projected(redis_client)
    return [compare("redis", family, want, held.get(family, {})) for family, want in expected.items()]


def check_neo4j(conn, driver) -> list[Drift]:
    expected = expected_graph(conn)
    held = graph.projected(driver)
    return [compare("neo4j", kind, want, held.get(kind, {})) for kind, want in expected.items()]


def check_chroma(conn, chroma_client, *, window: int) -> list[Drift]:
    found = []
    for spec in index.SPECS:
        records = spec.build(conn, window)
        held = vectors.held_records(spec.open(chroma_client))
        embed = None if records.embeddings is not None else vectors.text_embedding_function()
        expected, vectors_ok = {}, {}
        for i, key in enumerate(records.ids):
            document = None if records.documents is None else records.documents[i]
            embedding = None if records.embeddings is None else records.embeddings[i]
            meta = records.metadatas[i]
            expected[key] = [meta, document, vectors.record_digest(meta, document, embedding)]
            vectors_ok[key] = embedding
        stored = {k: [{m: v for m, v in h["metadata"].items() if m != "digest"}, h["document"],
                      h["metadata"].get("digest")] for k, h in held.items()}  # fmt: skip
        drift = compare("chroma", spec.collection, expected, stored)
        # the vectors themselves: numeric ones against the ledger's, text ones against the model's
        both = [k for k in records.ids if k in held and k not in drift.different]
        if both:
            want = (
                np.asarray([vectors_ok[k] for k in both], dtype=np.float32)
                if embed is None
                else np.asarray(embed([expected[k][1] for k in both]), dtype=np.float32)
            )
            got = np.asarray([held[k]["embedding"] for k in both], dtype=np.float32)
            off = ~np.isclose(got, want, rtol=1e-4, atol=1e-5).all(axis=1)
            drift.different += [k for k, bad in zip(both, off, strict=True) if bad]
        found.append(drift)
    return found


def doctor(conn, redis_client, driver, chroma_client, *, window: int | None = None) -> list[Drift]:
    """Every projection compared with what the ledger says it should hold."""
    window = window or Settings.from_env().pattern_window
    return [
        *check_redis(conn, redis_client),
        *check_neo4j(conn, driver),
        *check_chroma(conn, chroma_client, window=window),
    ]


def summary(drifts: list[Drift]) -> dict[str, int]:
    """Per store, how many kinds of projected things drifted (0 everywhere: in line with the ledger)."""
    return {store: sum(d.drifted for d in drifts if d.store == store) for store in STORES}


# --- the rebuild


def _full_scopes(conn) -> dict[str, list[RunScope]]:
    """The scope of a run covering the whole ledger, per pipeline (correlations: one per window)."""
    priced = tuple(ledger.prices.symbols(conn))
    return {
        prices.PIPELINE: [RunScope(symbols=priced)],
        companies.PIPELINE: [RunScope(symbols=tuple(ledger.companies.symbols(conn)))],
        events.PIPELINE: [RunScope(event_ids=tuple(e["event_id"] for e in ledger.events.market_events(conn)))],
        correlations.PIPELINE: [
            RunScope(symbols=priced, window=window, as_ofs=tuple(as_ofs))
            for window, as_ofs in _correlation_windows(conn)
        ],
    }


def _steps(store: str, settings: Settings) -> dict[str, list[tuple[Callable, dict]]]:
    """Per pipeline, the projection steps that write ``store``, with their settings."""
    if store == "redis":
        return {
            prices.PIPELINE: [(prices.cache_latest, {"ttl_seconds": settings.latest_price_ttl}),
                              (prices.cache_sector_momentum, {"ttl_seconds": settings.latest_price_ttl})],
            companies.PIPELINE: [(companies.cache_metadata, {"ttl_seconds": settings.company_metadata_ttl})],
            events.PIPELINE: [(events.cache_recent, {})],
            correlations.PIPELINE: [(correlations.cache_matrix, {"ttl_seconds": settings.correlation_ttl})],
        }  # fmt: skip
    if store == "neo4j":
        return {
            prices.PIPELINE: [(prices.graph_stocks, {})],
            companies.PIPELINE: [(companies.graph_companies, {})],
            events.PIPELINE: [(events.graph_events, {})],
            correlations.PIPELINE: [(correlations.graph_correlations, {})],
        }
    return {
        prices.PIPELINE: [(prices.vectorise_patterns, {"window": settings.pattern_window}),
                          (prices.vectorise_sector_profiles, {})],
        companies.PIPELINE: [(companies.vectorise_descriptions, {})],
        events.PIPELINE: [(events.vectorise_events, {})],
        correlations.PIPELINE: [(correlations.vectorise, {})],
    }  # fmt: skip


CLIENT_ARGUMENT = {"redis": "redis_client", "neo4j": "driver", "chroma": "chroma_client"}


def rebuild(conn, store: str, client, *, settings: Settings | None = None) -> dict:
    """Empty ``store``'s projections and write them again from the ledger alone; return what was written."""
    if store not in STORES:
        raise ValueError(f"unknown store {store!r}; choose from {', '.join(STORES)}")
    settings = settings or Settings.from_env()
    if store == "redis":
        removed = cache.delete_projected(client)
    elif store == "neo4j":
        removed = graph.delete_projected(client)
    else:
        removed = vectors.delete_collections(client, [s.collection for s in index.SPECS])
    log.info("rebuild %s: emptied (%s)", store, removed)
    written = {}
    steps = _steps(store, settings)
    for pipeline, scopes in _full_scopes(conn).items():
        for scope in scopes:
            run_id = ledger.runs.start_run(
                conn, pipeline="rebuild", provider="ledger", params={"store": store, "pipeline": pipeline}, scope=scope
            )
            try:
                for step, kwargs in steps[pipeline]:
                    name = f"{pipeline}.{step.__name__}" + (f"[{scope.window}]" if scope.window else "")
                    written[name] = step(conn, run_id, **{CLIENT_ARGUMENT[store]: client}, **kwargs)
                    log.info("rebuild %s: %s wrote %s", store, name, written[name])
            except Exception as exc:
                ledger.runs.finish(conn, run_id, "failed", {"failure": f"{type(exc).__name__}: {exc}"})
                raise
            ledger.runs.finish(conn, run_id, "succeeded", {"rebuilt": store})
    if store == "chroma":  # the index has seen the rebuilt collections: semantic_index verifies from here on
        for spec in index.SPECS:
            index.verify(conn, client, spec, window=settings.pattern_window)
    return {"store": store, "removed": removed, "written": written}
