"""Axiom: market data turned into one connected picture across PostgreSQL, Redis, Neo4j and ChromaDB.

This package is the domain: it imports no Airflow, so the same functions serve Airflow tasks,
the ``python -m axiom`` CLI, the tests and the benchmarks.
"""
