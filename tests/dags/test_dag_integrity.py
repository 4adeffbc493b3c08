"""Every DAG imports, and has tags, retries and a timeout on every task."""

from __future__ import annotations


def test_dags_import_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert "price_ingestion" in dagbag.dags


def test_every_dag_has_tags_and_retries(dagbag):
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags, f"{dag_id} has no tags"
        for task in dag.tasks:
            assert task.retries >= 1, f"{dag_id}.{task.task_id} has no retries"


def test_every_task_of_every_dag_has_an_execution_timeout(dagbag):
    from datetime import timedelta

    tasks = [(dag_id, t) for dag_id, dag in dagbag.dags.items() for t in dag.tasks]
    assert len(tasks) >= 40
    for dag_id, task in tasks:
        timeout = task.execution_timeout
        assert timeout is not None, f"{dag_id}.{task.task_id} may run forever"
        assert timedelta(minutes=1) <= timeout <= timedelta(hours=6), f"{dag_id}.{task.task_id}: {timeout}"


def test_price_ingestion_shape(dagbag):
    dag = dagbag.dags["price_ingestion"]
    assert set(dag.params) == {"symbols", "start", "end", "provider"}
    announce = dag.get_task("announce")
    # the announcement comes after every projection, and it is the task that emits the Asset
    assert {"cache_latest", "graph_stocks", "vectorise_patterns"} <= announce.upstream_task_ids
    assert [a.name for a in announce.outlets] == ["price_bar"]
    assert dag.get_task("load").upstream_task_ids == {"validate"}


def test_every_step_is_wired_by_reference_with_the_clients_it_names(dagbag):
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    from axiom_airflow.operators.pipeline_step import PipelineStepOperator, step_clients

    def step_of(t):
        """The step of a plain or a mapped (fanned-out over symbol chunks) pipeline-step task."""
        if isinstance(t, MappedOperator):
            return t.partial_kwargs["step"] if t.operator_class is PipelineStepOperator else None
        return t.step if isinstance(t, PipelineStepOperator) else None

    steps = {(dag.dag_id, t.task_id): step_of(t) for dag in dagbag.dags.values() for t in dag.tasks if step_of(t)}
    assert len(steps) >= 20
    for (_, task_id), step in steps.items():
        assert callable(step) and task_id == step.__name__
        assert step.__module__.startswith("axiom.pipelines.")
    clients = {task_id: step_clients(step) for (dag_id, task_id), step in steps.items() if dag_id == "price_ingestion"}
    assert clients["graph_stocks"] == ["driver"] and clients["announce"] == ["redis_client"]
    assert clients["validate"] == []
    mapped = {t.task_id for t in dagbag.dags["price_ingestion"].tasks if isinstance(t, MappedOperator)}
    assert mapped == {"cache_latest", "graph_stocks", "vectorise_patterns"}


def test_a_step_missing_an_argument_fails_when_the_dag_is_built():
    import pytest

    from axiom.pipelines import prices
    from axiom_airflow.operators.pipeline_step import pipeline_step

    with pytest.raises(TypeError, match=r"cache_latest needs \['ttl_seconds'\]"):
        pipeline_step(prices.cache_latest, 1)
    with pytest.raises(TypeError, match="validate takes no symbols"):
        pipeline_step(prices.validate, 1, chunks=[["AAPL"]])
