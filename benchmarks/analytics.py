"""Benchmark: correlation backfill and semantic indexing against their bare baselines.

* Correlation matrices of all symbols at every month-end of the full offline history, as
  ``axiom.analytics.correlation`` computes them, vs a bare ``np.corrcoef`` over the same arrays.
* Indexing throughput (documents/s) of the ledger's texts (companies, events, correlations) into a
  scratch Chroma collection, vs a bare ``encode`` of the same texts by the embedder (``axiom.embedding``).

Needs the ledger filled (`make run`). Touches no collection but its own scratch one.

    make bench        (on the tests' own stores; one script: scripts/bench.sh analytics)
"""

from __future__ import annotations

import logging
import time

import numpy as np

from axiom import connections, embedding, index
from axiom.analytics.correlation import correlations_at, month_ends
from axiom.pipelines.correlations import load_returns
from axiom.stores import ledger, vectors

WINDOW = 30


def best_of(n, fn):
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    pg, chroma = connections.postgres(), connections.chroma()

    start = time.perf_counter()
    returns = load_returns(pg, ledger.prices.symbols(pg), None, None, WINDOW)
    read_s = time.perf_counter() - start
    dates = month_ends(returns.index)
    ends = [returns.index.searchsorted(d, side="right") for d in dates]
    array = returns.to_numpy(dtype=float)
    ours = best_of(3, lambda: correlations_at(returns, dates, WINDOW))
    bare = best_of(3, lambda: [np.corrcoef(array[e - WINDOW : e], rowvar=False) for e in ends])
    print(f"\ncorrelations: {len(dates)} month-end matrices of {array.shape[1]} symbols, window {WINDOW}")
    print(f"  ledger read and return alignment ({array.shape[0]:,} sessions): {read_s:.3f} s (once)")
    print(f"  axiom correlations_at: {ours:.3f} s   bare np.corrcoef: {bare:.3f} s   ratio {ours / bare:.2f}x")

    texts = (index.company_records(pg), index.event_records(pg), index.correlation_records(pg))
    records = index.Records(
        ids=[i for r in texts for i in r.ids],
        metadatas=[m for r in texts for m in r.metadatas],
        documents=[d for r in texts for d in r.documents],
    )
    if not len(records):
        raise SystemExit("the ledger has no texts to index: run `make run` first")
    encoder = embedding.embedder()
    encoder.encode(records.documents[:8])  # load and warm the model outside the timing
    bare = best_of(2, lambda: encoder.encode(records.documents))

    def index_scratch():
        if "bench_index" in [c.name for c in chroma.list_collections()]:
            chroma.delete_collection("bench_index")
        records.upsert(vectors.text_collection(chroma, "bench_index", "benchmark scratch"))

    ours = best_of(2, index_scratch)
    chroma.delete_collection("bench_index")
    n = len(records)
    print(f"\nindexing: {n:,} documents (companies, events, correlations)")
    print(
        f"  axiom index upsert: {n / ours:,.0f} docs/s   bare encode: {n / bare:,.0f} docs/s   "
        f"ratio {bare / ours:.2f}x of the bare rate"
    )
    pg.close()


if __name__ == "__main__":
    main()
