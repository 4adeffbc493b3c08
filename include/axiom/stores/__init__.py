"""The four stores: the PostgreSQL ledger and its projections in Redis, Neo4j and ChromaDB.

Names: one name per concept, the same in every store. A concept is a singular snake_case noun:
``price``, ``company``, ``sector``, ``market_event``, ``correlation``, ``signal``, ``insight``.
Each store writes it in its own form, always starting with the concept:

==================  ===========================================  =====================================
store               form                                         examples
==================  ===========================================  =====================================
ledger table        ``{concept}`` or ``{concept}_{what}``, one   ``price_bar``, ``company_competitor``,
                    row each                                     ``market_event``, ``signal``
Asset               the ledger table it stands for               ``market_event``
                    (``axiom://ledger/{table}``), or the channel
                    it watches
Redis key           ``{concept}:{SYMBOL or scope}:{what}``, or   ``market_event:AAPL:recent``,
                    one part less where one says it all          ``correlation:matrix:latest``,
                                                                 ``insight:{hash}``, ``signal:stream``
Redis channel       ``{concept}_updates``; a kind within it      ``company_updates``,
                    adds ``:{kind}``                             ``market_event_updates:fed_decision``
Neo4j               a label is a thing, CamelCase singular; a    ``MarketEvent``, ``AFFECTED_BY``
                    relationship an UPPER_SNAKE verb
Chroma collection   the plural of its records; a record's id     ``market_events`` holds
                    is ``{type}:{key}``, its ``type`` metadata   ``market_event:42``
                    the singular
==================  ===========================================  =====================================

A field has the name of its ledger column wherever it travels (Redis JSON, node and edge
properties, Chroma metadata, messages, facts): ``coefficient``, ``window``, ``event_type``,
``impact``, ``close``, ``ts``. Tables that describe Axiom's own work are named for their row
(``ingestion_run``, ``rejected_row``, ``index_state``, ``analyst_judgement``, ``schema_migration``).
DAG ids are Airflow's, not a store's: a pipeline's DAG id is the ``pipeline`` of its runs in the
ledger. A stored name that changes is migrated once, recorded in ``schema_migration``
(``axiom.schema``): SQL files for the ledger, ``PROJECTION_RENAMES`` for Redis and Neo4j.
"""
