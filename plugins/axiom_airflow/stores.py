"""Store clients for Airflow tasks, from the ``axiom_*`` connections through the providers' hooks.

``StoreSession`` builds each hook once, connects each client lazily on first use, and closes
what it opened when the task ends. Steps name the clients they take by parameter name:
``redis_client``, ``driver`` (Neo4j), ``chroma_client`` and ``judge`` (the analyst, on the ledger).
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

from airflow.providers.neo4j.hooks.neo4j import Neo4jHook
from airflow.providers.postgres.hooks.postgres import PostgresHook
from airflow.providers.redis.hooks.redis import RedisHook

from axiom import config
from axiom.analysts.judge import judge_from_env
from axiom.pipelines.steps import CLIENTS
from axiom.stores import ledger
from axiom_airflow.hooks.chroma import ChromaHook


class StoreSession:
    """The ledger and any store client a task asks for, each made once and closed on exit."""

    def __init__(self) -> None:
        self._clients: dict[str, Any] = {}
        self._stack = ExitStack()

    def __enter__(self) -> StoreSession:
        return self

    def __exit__(self, *exc) -> None:
        self._stack.close()

    @property
    def ledger(self):
        """psycopg connection to the ledger, in autocommit mode (each batch opens its own transaction)."""
        if "ledger" not in self._clients:
            conn = PostgresHook(postgres_conn_id=config.POSTGRES_CONN_ID).get_conn()
            conn.autocommit = True
            ledger.db.pin_utc(conn)
            self._stack.callback(conn.close)
            self._clients["ledger"] = conn
        return self._clients["ledger"]

    def client(self, name: str):
        """The client a step parameter names (see ``axiom.pipelines.steps.CLIENTS``)."""
        if name not in self._clients:
            if name == "redis_client":
                client = RedisHook(redis_conn_id=config.REDIS_CONN_ID).get_conn()
                self._stack.callback(client.close)
            elif name == "driver":
                client = Neo4jHook(conn_id=config.NEO4J_CONN_ID).get_conn()
                self._stack.callback(client.close)
            elif name == "chroma_client":
                client = ChromaHook(chroma_conn_id=config.CHROMA_CONN_ID).get_conn()
            elif name == "judge":
                client = judge_from_env(self.ledger)
            else:
                raise ValueError(f"unknown client {name!r}; steps may take {', '.join(CLIENTS)}")
            self._clients[name] = client
        return self._clients[name]
