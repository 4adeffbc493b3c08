"""ChromaHook: a ChromaDB client from an Airflow connection of type ``chroma``.

Host and port address a ``chroma run`` server (``chroma://127.0.0.1:8000``); an extra ``path``
(``chroma://?path=/data/chroma``) opens an embedded PersistentClient instead; an extra ``database``
(``chroma://127.0.0.1:8000?database=axiom_test``) selects a database other than Chroma's default, and a
password (``chroma://:TOKEN@chromadb:8000``) is sent as the ``X-Chroma-Token`` a production proxy checks.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseHook

from axiom.stores.vectors import connect


class ChromaHook(BaseHook):
    """Connect lazily to ChromaDB and cache the client for the hook's lifetime."""

    conn_name_attr = "chroma_conn_id"
    default_conn_name = "chroma_default"
    conn_type = "chroma"
    hook_name = "ChromaDB"

    def __init__(self, chroma_conn_id: str = default_conn_name, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.chroma_conn_id = chroma_conn_id
        self.client: Any = None

    def get_conn(self) -> Any:
        """The ChromaDB client (HTTP or embedded), created on first use."""
        if self.client is None:
            conn = self.get_connection(self.chroma_conn_id)
            extra = conn.extra_dejson
            self.client = connect(
                host=conn.host,
                port=conn.port,
                path=extra.get("path"),
                database=extra.get("database"),
                token=conn.password or None,
            )
        return self.client

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return {
            "hidden_fields": ["schema", "login"],
            "relabeling": {"password": "Token (X-Chroma-Token)"},
            "placeholders": {"host": "127.0.0.1", "port": "8000", "extra": '{"path": "/data/chroma"} for embedded use'},
        }
