"""PostgreSQL, the ledger: the truth that Redis, Neo4j and ChromaDB project.

One module per table family owns that family's SQL; nothing outside this package (and
``axiom.schema``) writes SQL:

* ``db``: transactions, COPY, row counts;
* ``runs``: ``ingestion_run`` (each run's typed scope and its counters) and ``rejected_row``;
* ``prices``: ``price_bar``;
* ``companies``: ``company_fundamentals`` and ``company_competitor``;
* ``events``: ``market_event`` and ``market_event_sector_sensitivity``;
* ``correlations``: ``correlation``;
* ``sectors``: ``sector_momentum``;
* ``judgements``: ``analyst_judgement``;
* ``index_state``: what the semantic index last verified;
* ``insights``: the answers to users' questions;
* ``signals``: trading signals, the evaluations of Axiom's signals and their per-observation outcomes;
* ``deliveries``: each signal's push to each alert channel;
* ``live``: a replay's clock and state, and when each session reached each hop of the live path.

Every write is one transaction per batch; every statement is parameterised (identifiers that
are spliced in are module constants, never input).
"""

from axiom.stores.ledger import (
    companies,
    correlations,
    db,
    deliveries,
    events,
    index_state,
    insights,
    judgements,
    live,
    prices,
    runs,
    sectors,
    signals,
)

__all__ = [
    "companies",
    "correlations",
    "db",
    "deliveries",
    "events",
    "index_state",
    "insights",
    "judgements",
    "live",
    "prices",
    "runs",
    "sectors",
    "signals",
]
