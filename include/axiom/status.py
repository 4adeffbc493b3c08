"""Counts per store, so a user (``make status``) and the tests see the same picture."""

from __future__ import annotations

from axiom import index, replay
from axiom.analysts.judge import PROCESS_BUDGET
from axiom.stores import cache, graph, ledger, vectors


def counts(pg, redis_client, driver, chroma_client, *, window: int) -> dict:
    """Row, key, node, edge and vector counts across the four stores, and the runs that wrote them.

    The run log grows with every run; every other count stays put when a run changes nothing.
    """
    held = vectors.collection_counts(chroma_client)
    # each collection beside the number of records the ledger implies
    chroma = {
        name: {"chroma": held.get(name, 0), "ledger": n} for name, n in index.ledger_counts(pg, window=window).items()
    }
    return {
        "postgres": ledger.db.row_counts(pg),
        "redis": cache.key_counts(redis_client),
        "neo4j": graph.counts(driver),
        "chroma": dict(sorted(chroma.items())),
        "runs": ledger.runs.status_counts(pg),
        "analyst": spend(pg),
        "replay": replay.state(pg),
    }


def spend(pg) -> dict:
    """What the paid analyst spent today against its budgets (``AXIOM_DAILY_ANALYST_CALLS``, per process)."""
    return {
        "claude_calls_today": ledger.judgements.calls_today(pg, "claude"),
        "daily_budget": PROCESS_BUDGET.per_day,
        "per_process_cap": PROCESS_BUDGET.per_process,
    }
