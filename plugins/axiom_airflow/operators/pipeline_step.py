"""PipelineStepOperator: run one step of an Axiom pipeline on an ingestion run; ``pipeline_tasks``: a
pipeline's declared steps (``axiom.pipelines.steps``) as the tasks of its DAG, wired as declared.

Every step after a pipeline's first has the same shape: it reads the run from the ledger and
writes a store (or asks the analyst), ``step(ledger, run_id, *, <clients by name>, **kwargs)``.
This operator opens the ledger and the clients the step's signature names (``redis_client``,
``driver``, ``chroma_client``, ``judge``), calls it, and passes the run id on, so DAG files only
open the run and hand the rest to ``pipeline_tasks``.

A step that fans out (it takes ``symbols``) is mapped over symbol chunks (dynamic task mapping), one
task instance per chunk of ``AXIOM_SYMBOL_CHUNK`` symbols, each labelled with its symbols.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Sequence
from typing import Any

from airflow.sdk import BaseOperator, task
from airflow.sdk.exceptions import AirflowSkipException

from axiom.config import Settings
from axiom.models import NothingChanged
from axiom.pipelines import steps as declared
from axiom_airflow.stores import StoreSession


class PipelineStepOperator(BaseOperator):
    """Call ``step`` with the ledger, the ingestion run id and the clients it names.

    :param step: the step function, e.g. ``axiom.pipelines.companies.graph_companies``
    :param ingestion_run_id: the run the step works on (usually the upstream task's output)
    :param step_kwargs: other keyword arguments for the step (e.g. a TTL)
    :param symbols: the chunk of the run's symbols this task works on (None: all of them)
    """

    template_fields: Sequence[str] = ("ingestion_run_id", "step_kwargs")
    ui_color = "#e8f4fa"

    def __init__(
        self,
        *,
        step: Callable,
        ingestion_run_id: Any,
        step_kwargs: dict | None = None,
        symbols: list[str] | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        missing = {
            name
            for name, p in inspect.signature(step).parameters.items()
            if p.kind is p.KEYWORD_ONLY and p.default is p.empty and name not in declared.CLIENTS
        } - set(step_kwargs or {})
        if missing:
            raise TypeError(f"step {step.__qualname__} needs {sorted(missing)}")
        self.step = step
        self.ingestion_run_id = ingestion_run_id
        self.step_kwargs = step_kwargs or {}
        self.symbols = symbols

    def execute(self, context) -> int:
        run_id = int(self.ingestion_run_id)
        chunk = {} if self.symbols is None else {"symbols": list(self.symbols)}
        if chunk:
            context["chunk"] = chunk_label(self.symbols)
            self.log.info("run %d: %s on %s", run_id, self.task_id, context["chunk"])
        with StoreSession() as stores:
            clients = {name: stores.client(name) for name in declared.clients_of(self.step)}
            began = time.perf_counter()
            try:
                self.step(stores.ledger, run_id, **clients, **chunk, **self.step_kwargs)
            except NothingChanged as nothing:  # skipped: a skipped producer emits no Asset event
                raise AirflowSkipException(str(nothing)) from nothing
            declared.stamp(stores.ledger, run_id, self.task_id, time.perf_counter() - began)
        return run_id


def chunk_label(symbols: Sequence[str]) -> str:
    """How a mapped task instance is named in the UI: ``AAPL..MSFT (12 symbols)``."""
    if not symbols:
        return "no symbols"
    if len(symbols) == 1:
        return symbols[0]
    return f"{symbols[0]}..{symbols[-1]} ({len(symbols)} symbols)"


def pipeline_step(
    step: Callable, ingestion_run_id: Any, *, outlets: Sequence = (), chunks: Any = None, **step_kwargs: Any
):
    """The operator for ``step`` (the task id is the step's name); with ``chunks`` (an XComArg of
    symbol lists) one mapped task instance per chunk."""
    if chunks is None:
        return PipelineStepOperator(
            task_id=step.__name__,
            step=step,
            ingestion_run_id=ingestion_run_id,
            step_kwargs=step_kwargs,
            outlets=list(outlets),
        )
    if "symbols" not in inspect.signature(step).parameters:
        raise TypeError(f"step {step.__qualname__} takes no symbols, so it cannot be mapped over chunks")
    return PipelineStepOperator.partial(
        task_id=step.__name__,
        step=step,
        ingestion_run_id=ingestion_run_id,
        step_kwargs=step_kwargs,
        outlets=list(outlets),
        map_index_template="{{ chunk }}",
    ).expand(symbols=chunks)


@task
def chunk_symbols(ingestion_run_id: int) -> list[list[str]]:
    """The run's symbols in chunks of ``AXIOM_SYMBOL_CHUNK``, one mapped task each for the steps that fan out."""
    with StoreSession() as stores:
        return declared.symbol_chunks(stores.ledger, ingestion_run_id, size=Settings.from_env().symbol_chunk)


def pipeline_tasks(steps: Sequence[declared.Step], ingestion_run_id: Any, *, outlets: Sequence = ()) -> dict:
    """The tasks of a pipeline's declared ``steps`` on the run ``ingestion_run_id`` (the output of the task
    that opened it), each waiting for the steps it is declared to follow, the steps that fan out mapped over
    the run's symbol chunks; the last step emits ``outlets``. Returns the tasks by step name.

    A step takes the run id from the first plain (not mapped) step it waits for, so the graph has no edge
    that the declaration does not."""
    settings = Settings.from_env()
    waits = declared.upstream(steps)
    fanned = {s.name for s in steps if s.fan_out}
    tasks: dict[str, Any] = {}
    chunks = None
    for i, step in enumerate(steps):
        plain = [name for name in waits[step.name] if name not in fanned]
        run_id = tasks[plain[0]].output if plain else ingestion_run_id
        if step.fan_out and chunks is None:
            chunks = chunk_symbols(run_id)
        tasks[step.name] = pipeline_step(
            step.run,
            run_id,
            outlets=outlets if i == len(steps) - 1 else (),
            chunks=chunks if step.fan_out else None,
            **step.kwargs(settings),
        )
        for name in waits[step.name]:
            if not plain or name != plain[0]:  # that one is upstream already, through its output
                tasks[name] >> tasks[step.name]
    return tasks
