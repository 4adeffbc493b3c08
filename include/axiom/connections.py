"""Clients for the four stores built from the ``AIRFLOW_CONN_*`` variables, without Airflow.

Airflow tasks get the same clients from the provider hooks; the CLI, tests and benchmarks use
these, so both read one configuration.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from axiom import config


@dataclass(frozen=True)
class ConnectionInfo:
    """The parts of a connection URI that the stores need."""

    scheme: str
    host: str | None
    port: int | None
    login: str | None
    password: str | None
    schema: str
    extra: dict[str, str]


def connection_info(conn_id: str) -> ConnectionInfo:
    """Parse ``AIRFLOW_CONN_<CONN_ID>`` (URI form)."""
    name = f"AIRFLOW_CONN_{conn_id.upper()}"
    uri = os.environ.get(name)
    if not uri:
        raise RuntimeError(f"{name} is not set: source .env (scripts/env.sh does) or export it")
    parts = urlsplit(uri)
    return ConnectionInfo(
        scheme=parts.scheme,
        host=parts.hostname,
        port=parts.port,
        login=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        schema=parts.path.lstrip("/"),
        extra={k: v[-1] for k, v in parse_qs(parts.query).items()},
    )


def postgres():
    """A psycopg 3 connection to the ledger (autocommit: each batch opens its own transaction)."""
    import psycopg

    info = connection_info(config.POSTGRES_CONN_ID)
    return psycopg.connect(
        host=info.host,
        port=info.port or 5432,
        user=info.login,
        password=info.password,
        dbname=info.schema,
        application_name="axiom",
        autocommit=True,
        options="-c TimeZone=UTC",  # session dates and casts in UTC, whatever the server's default
    )


def redis():
    """A redis-py client for the cache."""
    import redis as redis_lib

    info = connection_info(config.REDIS_CONN_ID)
    return redis_lib.Redis(
        host=info.host,
        port=info.port or 6379,
        password=info.password,
        db=int(info.extra.get("db", 0)),
    )


def neo4j():
    """A Neo4j driver for the graph."""
    from neo4j import GraphDatabase

    info = connection_info(config.NEO4J_CONN_ID)
    return GraphDatabase.driver(f"bolt://{info.host}:{info.port or 7687}", auth=(info.login, info.password))


def chroma():
    """A ChromaDB client for the vectors."""
    from axiom.stores.vectors import connect

    info = connection_info(config.CHROMA_CONN_ID)
    return connect(host=info.host, port=info.port, path=info.extra.get("path"))
