"""The four store clients for Airflow tasks, from the ``axiom_*`` connections via hooks."""

from __future__ import annotations

from airflow.providers.neo4j.hooks.neo4j import Neo4jHook
from airflow.providers.postgres.hooks.postgres import PostgresHook
from airflow.providers.redis.hooks.redis import RedisHook

from axiom import config
from axiom_airflow.hooks.chroma import ChromaHook


def ledger():
    """psycopg connection to the ledger, in autocommit mode (each batch opens its own transaction)."""
    conn = PostgresHook(postgres_conn_id=config.POSTGRES_CONN_ID).get_conn()
    conn.autocommit = True
    return conn


def cache():
    """redis-py client."""
    return RedisHook(redis_conn_id=config.REDIS_CONN_ID).get_conn()


def graph():
    """Neo4j driver."""
    return Neo4jHook(conn_id=config.NEO4J_CONN_ID).get_conn()


def vectors():
    """ChromaDB client."""
    return ChromaHook(chroma_conn_id=config.CHROMA_CONN_ID).get_conn()
