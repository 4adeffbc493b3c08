"""The four stores: the PostgreSQL ledger and its projections in Redis, Neo4j and ChromaDB."""
