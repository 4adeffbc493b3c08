"""Clients for the four stores built from the ``AIRFLOW_CONN_*`` variables, without Airflow.

Airflow tasks get the same clients from the provider hooks; the CLI, tests and benchmarks use
these, so both read one configuration. For scripts/services.sh (``ps`` shows every process's
arguments to every user, so no URI or password may be an argument; each is read from its
variable by name):

    python -m axiom.connections parts PG=axiom_postgres REDIS=axiom_redis ...
        each connection's host, port, login, password and schema (for PostgreSQL: the database) as
        shell assignments ``PG_HOST=...``, for ``eval``
    python -m axiom.connections neo4j-first-password PORT
        set the password of ``axiom_neo4j`` on a new Neo4j server on 127.0.0.1:PORT
    python -m axiom.connections empty-test-stores
        empty the tests' stores (refused unless every connection points at them): ``make replay FRESH=1``
"""

from __future__ import annotations

import os
import shlex
import sys
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
    return connect(
        host=info.host,
        port=info.port,
        path=info.extra.get("path"),
        database=info.extra.get("database"),
        token=info.password,
    )


TEST_DATABASES = {"neo4j": "axiomtest", "chroma": "axiom_test"}


def not_test_stores(pg, redis_client, driver, chroma_client) -> list[str]:
    """Why these clients are not the stores of tests and benchmarks (empty when they are).

    Code that empties stores asks this first, so ``make test`` and ``make bench`` can never wipe
    a user's data: scripts/env.sh ``use_test_stores`` points every connection at its test twin.
    """
    from axiom.stores import graph, ledger

    problems = []
    if os.environ.get("AXIOM_STORES") != "test":
        problems.append("AXIOM_STORES is not 'test' (run through `make test` or `make bench`)")
    if not (name := ledger.db.database_name(pg)).endswith("_test"):
        problems.append(f"PostgreSQL database {name!r} is not a *_test database")
    if redis_client.connection_pool.connection_kwargs.get("db", 0) == 0:
        problems.append("Redis is on db 0, the user's")
    if not str(redis_client.config_get("dir").get("dir", "")).endswith("redis-test"):
        problems.append("Redis is not the tests' server (started by services.sh start-test in .state/redis-test)")
    if (name := graph.database_name(driver)) != TEST_DATABASES["neo4j"]:
        problems.append(f"Neo4j database {name!r} is not the test instance's {TEST_DATABASES['neo4j']!r}")
    if chroma_client.database != TEST_DATABASES["chroma"]:
        problems.append(f"Chroma database {chroma_client.database!r} is not {TEST_DATABASES['chroma']!r}")
    return problems


def require_test_stores(pg, redis_client, driver, chroma_client) -> None:
    """Refuse (RuntimeError with every reason) unless the clients are the test stores."""
    problems = not_test_stores(pg, redis_client, driver, chroma_client)
    if problems:
        raise RuntimeError("refusing to empty stores that may hold a user's data: " + "; ".join(problems))


def empty_test_stores(pg, redis_client, driver, chroma_client) -> None:
    """Empty every store Axiom writes to (the schema stays), once sure they are the test stores."""
    from axiom.stores import cache, graph, ledger, vectors

    require_test_stores(pg, redis_client, driver, chroma_client)
    ledger.db.truncate_all(pg)
    cache.flush(redis_client)
    graph.delete_all(driver)
    vectors.delete_collections(chroma_client, [c.name for c in chroma_client.list_collections()])


PARTS = ("host", "port", "login", "password", "schema")


def shell_assignments(prefixed: dict[str, str]) -> str:
    """``{PREFIX}_{PART}=value`` lines, quoted for a POSIX shell, for each prefix -> connection id."""
    lines = []
    for prefix, conn_id in prefixed.items():
        info = connection_info(conn_id)
        lines += [f"{prefix}_{part.upper()}={shlex.quote(str(getattr(info, part) or ''))}" for part in PARTS]
    return "\n".join(lines)


def set_neo4j_first_password(port: int) -> None:
    """A new Neo4j server accepts only neo4j/neo4j until its password is changed: change it, over Bolt,
    to the password of the ``axiom_neo4j`` connection."""
    from neo4j import GraphDatabase

    from axiom.stores import graph

    password = connection_info(config.NEO4J_CONN_ID).password
    if not password:
        raise RuntimeError(f"AIRFLOW_CONN_{config.NEO4J_CONN_ID.upper()} has no password")
    with GraphDatabase.driver(f"bolt://127.0.0.1:{port}", auth=("neo4j", "neo4j")) as driver:
        graph.change_password(driver, "neo4j", password)


def main(argv: list[str]) -> int:
    try:
        match argv:
            case ["parts", *pairs] if pairs and all("=" in p for p in pairs):
                print(shell_assignments(dict(p.split("=", 1) for p in pairs)))
            case ["neo4j-first-password", port] if port.isdigit():
                set_neo4j_first_password(int(port))
            case ["empty-test-stores"]:
                empty_test_stores(postgres(), redis(), neo4j(), chroma())
            case _:
                print(__doc__, file=sys.stderr)
                return 2
    except Exception as exc:  # a clear line for the script's log, never a traceback with a URI in it
        print(f"axiom.connections: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
