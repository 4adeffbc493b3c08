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


def test_make_run_unpauses_every_dag(dagbag):
    """scripts/run.sh unpauses the DAGs it triggers, then every other up front, so a run triggered from the UI
    (the manual DAGs) or by an Asset event runs: a DAG left paused would wait forever."""
    import re
    from pathlib import Path

    run_sh = (Path(__file__).resolve().parents[2] / "scripts" / "run.sh").read_text()
    triggered = set(re.findall(r"^trigger_and_wait (\w+)", run_sh, re.MULTILINE))
    [up_front] = re.findall(r"^unpause ([\w ]+)$", run_sh, re.MULTILINE)
    assert triggered | set(up_front.split()) == set(dagbag.dags)
    # up front only what no schedule starts: unpausing a scheduled DAG starts the run of its newest past schedule
    assert all(type(dagbag.dags[d].timetable).__name__ != "CronTriggerTimetable" for d in up_front.split())


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

    from axiom.pipelines.steps import clients_of
    from axiom_airflow.operators.pipeline_step import PipelineStepOperator

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
    clients = {task_id: clients_of(step) for (dag_id, task_id), step in steps.items() if dag_id == "price_ingestion"}
    assert clients["graph_stocks"] == ["driver"] and clients["announce"] == ["redis_client"]
    assert clients["validate"] == []
    mapped = {t.task_id for t in dagbag.dags["price_ingestion"].tasks if isinstance(t, MappedOperator)}
    assert mapped == {"graph_stocks", "vectorise_patterns"}


def test_a_step_missing_an_argument_fails_when_the_dag_is_built():
    import pytest

    from axiom.pipelines import prices
    from axiom_airflow.operators.pipeline_step import pipeline_step

    with pytest.raises(TypeError, match=r"cache_latest needs \['ttl_seconds'\]"):
        pipeline_step(prices.cache_latest, 1)
    with pytest.raises(TypeError, match="validate takes no symbols"):
        pipeline_step(prices.validate, 1, chunks=[["AAPL"]])


def test_each_pipeline_dag_runs_exactly_its_declared_steps_wired_as_declared(dagbag):
    """The DAG, the CLI, rebuild and the benchmarks read one list per pipeline; the DAG must not differ."""
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    from axiom.pipelines import companies, correlations, events, prices
    from axiom.pipelines.steps import upstream

    opening = {"price_ingestion": "fetch", "company_graph": "load_fundamentals", "market_events": "collect",
               "correlations": "compute"}  # fmt: skip
    for module in (prices, companies, events, correlations):
        dag = dagbag.dags[module.PIPELINE]
        first = opening[module.PIPELINE]
        extra = {first} | ({"chunk_symbols"} if any(s.fan_out for s in module.STEPS) else set())
        assert {t.task_id for t in dag.tasks} - extra == {s.name for s in module.STEPS}, module.PIPELINE
        for step in module.STEPS:
            task = dag.get_task(step.name)
            assert isinstance(task, MappedOperator) == step.fan_out, step.name
            declared = set(upstream(module.STEPS)[step.name]) or {first}
            if step.fan_out:
                declared.add("chunk_symbols")
            assert task.upstream_task_ids == declared, f"{module.PIPELINE}.{step.name}"
        assert [a.name for a in dag.get_task(module.STEPS[-1].name).outlets], f"{module.PIPELINE} emits no Asset"
