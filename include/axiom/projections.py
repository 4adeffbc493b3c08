"""The ledger's promise, checkable: what Redis, Neo4j and ChromaDB should hold, compared with what they hold
(``doctor``), and each projection rebuilt from PostgreSQL alone (``rebuild``).

What a store should hold comes from the same builders the pipelines' steps write with, so the check
and the writers cannot disagree about the shape. Compared are values, not only counts:

* Redis: every symbol's latest price (value and bar time), company metadata, the recent-event sets,
  the correlation matrix and top pairs, sector momentum. Answers (``insight:*``) and the signal
  stream are deliveries, not projections, and are left out. A cache key past its TTL shows as missing.
* Neo4j: Stock and Company nodes with their properties, BELONGS_TO, COMPETES_WITH (the latest
  snapshot), MarketEvent nodes, AFFECTED_BY, AFFECTS, CORRELATED_WITH (each window's latest as-of),
  ROTATES_TO (every session's rotation pairs, from the ledger's sector momentum).
* Chroma: every collection's ids, metadata, documents, digests and vectors.

A rebuild runs the pipelines' own declared steps that write that store (``axiom.pipelines.steps``) on a
run whose scope is the whole ledger (pipeline ``rebuild``), so it writes exactly what the pipelines
would, in place, then deletes what the ledger does not imply and rewrites what still differs. It never
empties a store: a reader during a rebuild sees the old picture or the new one, never none.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np

from axiom import index, reads
from axiom.config import Settings
from axiom.pipelines import companies, correlations, events, prices, steps
from axiom.stores import cache, graph, ledger, vectors
from axiom.stores.ledger.runs import RunScope

log = logging.getLogger(__name__)

STORES = ("redis", "neo4j", "chroma")
PIPELINES = {p.PIPELINE: p.STEPS for p in (prices, companies, events, correlations)}  # each one's declared steps
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
    momentum = reads.sector_momentum(conn)
    return {
        "price:*:latest": _json(cache.latest_price_items(ledger.prices.latest_bars(conn, priced))),
        "company:*:metadata": _json(companies.metadata_items(conn)),
        cache.RECENT_EVENT_FAMILY: recent,
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
        "ROTATES_TO": {(r["source"], r["target"], r["as_of"]): r["strength"] for r in prices.rotation_rows(conn)},
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


CLIENT_ARGUMENT = {"redis": "redis_client", "neo4j": "driver", "chroma": "chroma_client"}


def _ttl(family: str, settings: Settings) -> int:
    """The TTL the pipelines give the keys of a projected Redis family."""
    return {
        "price:*:latest": settings.latest_price_ttl,
        "company:*:metadata": settings.company_metadata_ttl,
        "correlation:*": settings.correlation_ttl,
        cache.SECTOR_MOMENTUM: settings.latest_price_ttl,
    }[family]


def rebuild(conn, store: str, client, *, settings: Settings | None = None) -> dict:
    """Write ``store``'s projections again from the ledger alone, in place: the pipelines' own steps over the
    whole ledger (idempotent upserts and merges), then a repair of what still differs; return what was done.

    Nothing is emptied first, so a reader during a rebuild sees the old value or the new one, never none,
    and a rebuild that fails leaves the old picture in place (what it had rewritten already is the ledger's).
    """
    if store not in STORES:
        raise ValueError(f"unknown store {store!r}; choose from {', '.join(STORES)}")
    settings = settings or Settings.from_env()
    written = {}
    for pipeline, scopes in _full_scopes(conn).items():
        for scope in scopes:
            run_id = ledger.runs.start_run(
                conn, pipeline="rebuild", provider="ledger", params={"store": store, "pipeline": pipeline}, scope=scope
            )
            try:
                for step in steps.writing(PIPELINES[pipeline], store):
                    name = f"{pipeline}.{step.name}" + (f"[{scope.window}]" if scope.window else "")
                    written[name] = step.run(conn, run_id, **{CLIENT_ARGUMENT[store]: client}, **step.kwargs(settings))
                    log.info("rebuild %s: %s wrote %s", store, name, written[name])
            except Exception as exc:
                ledger.runs.finish(conn, run_id, "failed", {"failure": f"{type(exc).__name__}: {exc}"})
                raise
            ledger.runs.finish(conn, run_id, "succeeded", {"rebuilt": store})
    repaired = repair(conn, store, client, settings=settings)
    log.info("rebuild %s: repaired %s", store, repaired)
    if store == "chroma":  # the index has seen the rebuilt collections: semantic_index verifies from here on
        for spec in index.SPECS:
            index.verify(conn, client, spec, window=settings.pattern_window)
    return {"store": store, "written": written, **repaired}


def repair(conn, store: str, client, *, settings: Settings) -> dict:
    """Delete what ``store`` holds that the ledger does not imply, and rewrite what still differs from it
    (a tampered value the idempotent writers leave alone: an unchanged digest, a stale sorted-set member)."""
    removed, rewritten = 0, 0
    if store == "redis":
        expected = expected_redis(conn)
        for d in check_redis(conn, client):
            removed += cache.delete_keys(client, d.extra)
            if d.different:
                want = {k: expected[d.kind][k] for k in d.different}
                if d.kind == cache.RECENT_EVENT_FAMILY:
                    rewritten += cache.replace_sets(client, want)
                else:  # a JSON value, with the TTL its writer gives it
                    rewritten += cache.cache_json(client, want, ttl_seconds=_ttl(d.kind, settings))
    elif store == "neo4j":
        for d in check_neo4j(conn, client):
            if d.extra:
                removed += graph.delete_extra(client, d.kind, d.extra)
    else:
        for d in check_chroma(conn, client, window=settings.pattern_window):
            spec = index.spec(d.kind)
            collection = spec.open(client)
            for start in range(0, len(d.extra), 4000):
                collection.delete(ids=d.extra[start : start + 4000])
            removed += len(d.extra)
            if d.different:
                records = spec.build(conn, settings.pattern_window).subset(d.different)
                rewritten += records.upsert(collection, force=True)
    return {"removed": removed, "rewritten": rewritten}
