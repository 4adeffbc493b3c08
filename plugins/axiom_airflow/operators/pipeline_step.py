"""PipelineStepOperator: run one step of an Axiom pipeline on an ingestion run.

Every step after a pipeline's first has the same shape: it reads the run from the ledger and
writes a store (or asks the analyst), ``step(ledger, *clients, ingestion_run_id, **kwargs)``.
This operator opens the ledger and the clients the step names, calls it, and passes the run id
on, so DAG files only wire steps together.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.module_loading import import_string

from axiom.analysts.judge import judge_from_env
from axiom_airflow import stores

CLIENTS = {"cache": stores.cache, "graph": stores.graph, "vectors": stores.vectors}


class PipelineStepOperator(BaseOperator):
    """Call ``step`` (a dotted path) with the ledger, the named clients and the ingestion run id.

    :param step: import path of the step, e.g. ``axiom.pipelines.companies.graph_companies``
    :param ingestion_run_id: the run the step works on (usually the upstream task's output)
    :param clients: which clients the step takes after the ledger, in order: ``cache``, ``graph``,
        ``vectors`` or ``judge`` (the analyst, built on the ledger connection)
    :param step_kwargs: keyword arguments for the step (e.g. a TTL)
    """

    template_fields: Sequence[str] = ("ingestion_run_id", "step_kwargs")
    ui_color = "#e8f4fa"

    def __init__(
        self,
        *,
        step: str,
        ingestion_run_id: Any,
        clients: Sequence[str] = (),
        step_kwargs: dict | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        unknown = set(clients) - {*CLIENTS, "judge"}
        if unknown:
            raise ValueError(f"unknown clients {sorted(unknown)}; choose from {sorted({*CLIENTS, 'judge'})}")
        self.step = step
        self.ingestion_run_id = ingestion_run_id
        self.clients = list(clients)
        self.step_kwargs = step_kwargs or {}

    def execute(self, context) -> int:
        run_id = int(self.ingestion_run_id)
        fn = import_string(self.step)
        with ExitStack() as stack:
            conn = stack.enter_context(stores.ledger())
            args = []
            for name in self.clients:
                client = judge_from_env(conn) if name == "judge" else CLIENTS[name]()
                if name == "graph":
                    stack.callback(client.close)
                args.append(client)
            fn(conn, *args, run_id, **self.step_kwargs)
        return run_id


def pipeline_step(
    module: str,
    name: str,
    ingestion_run_id: Any,
    clients: Sequence[str] = (),
    *,
    outlets: Sequence = (),
    **step_kwargs: Any,
) -> PipelineStepOperator:
    """The operator for step ``name`` of ``module`` (the task id is the step's name)."""
    return PipelineStepOperator(
        task_id=name,
        step=f"{module}.{name}",
        ingestion_run_id=ingestion_run_id,
        clients=clients,
        step_kwargs=step_kwargs,
        outlets=list(outlets),
    )
