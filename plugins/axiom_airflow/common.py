"""What every Axiom DAG shares: defaults, the failure path, the usual Params, and the schema task."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Generator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from airflow.sdk import Param
from airflow.sdk.exceptions import AirflowFailException

from axiom import schema
from axiom.stores import ledger
from axiom.validation import SYMBOL_PATTERN
from axiom_airflow.stores import StoreSession

log = logging.getLogger(__name__)
P = TypeVar("P")


def origin(dag_run) -> str:
    """The DAG run an ingestion run comes from: a retried first task reopens the run it started."""
    return f"{dag_run.dag_id}/{dag_run.run_id}"


def record_failure(context) -> None:
    """Failure callback of every task (after its last retry) and of every DAG run (also a timeout, a run
    marked failed by hand, a killed task): the DAG run's ingestion run, if it opened one, is marked
    ``failed`` with where and why, so no run stays ``running`` forever."""
    ti, error = context.get("ti"), context.get("exception")
    where = ti.task_id if ti else "the DAG run"
    reason = f"{where}: {type(error).__name__}: {error}" if error else f"{where} failed: {context.get('reason', '')}"
    try:
        with StoreSession() as stores:
            run_id = ledger.runs.fail(stores.ledger, origin(context["dag_run"]), reason)
    except Exception:  # the ledger itself may be what failed; the task's own error is what matters
        log.exception("could not record the failure of %s in the ledger", where)
        return
    if run_id is not None:
        log.error("ingestion run %d failed: %s", run_id, reason)


def parsed(parse: Callable[..., P], params: dict, **kwargs) -> P:
    """A run's Params through ``parse``; a value no retry can fix (end before start) fails the task at once."""
    try:
        return parse(params, **kwargs)
    except ValueError as exc:
        raise AirflowFailException(f"invalid Params: {exc}") from exc


DAG_DEFAULTS = {
    "start_date": datetime(2026, 1, 1, tzinfo=UTC),
    "catchup": False,
    "max_active_runs": 1,
    "on_failure_callback": record_failure,
    "default_args": {
        "retries": 2,
        "retry_delay": timedelta(seconds=float(os.environ.get("AXIOM_RETRY_DELAY", 30))),
        # no task may hang forever (a store that accepts a connection and never answers): one hour unless
        # AXIOM_TASK_TIMEOUT says otherwise; a task that needs longer sets its own execution_timeout
        "execution_timeout": timedelta(seconds=float(os.environ.get("AXIOM_TASK_TIMEOUT", 3600))),
        "on_failure_callback": record_failure,
    },
}


def symbols_param(description: str = "Tickers; empty means all known.") -> Param:
    return Param(
        [],
        type="array",
        items={"type": "string", "pattern": SYMBOL_PATTERN.pattern},
        title="Symbols",
        description=description,
    )


def date_param(title: str, description: str = "") -> Param:
    return Param(None, type=["null", "string"], format="date", title=title, description=description)


def provider_param(description: str, *, replay: bool = False) -> Param:
    """The provider Param; ``replay`` (only where prices are fetched) adds the replay's clocked provider."""
    return Param(
        os.environ.get("AXIOM_PRICE_PROVIDER", "offline"),
        type="string",
        enum=["offline", "yfinance", "synthetic", *(["replay"] if replay else [])],
        title="Provider",
        description=description,
    )


@contextmanager
def migrated_stores() -> Generator[StoreSession]:
    """A ``StoreSession`` on a schema brought up to date first (``axiom.schema.migrate``): each pipeline's opening
    task migrates as it opens its run, rather than a task of its own ahead of it (one task start less on the
    live path, where a start costs more than the migration's few reads)."""
    with StoreSession() as stores:
        schema.migrate(stores.ledger, redis_client=stores.client("redis_client"), driver=stores.client("driver"))
        yield stores
