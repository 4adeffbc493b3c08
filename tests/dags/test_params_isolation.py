"""A DAG run's conf stays in its test: the next test's runs start from the declared Params (tests/conftest.py)."""

from airflow.sdk.definitions.param import process_params


def test_a_runs_conf_is_resolved_into_the_tasks_params(dagbag):
    task = dagbag.dags["correlations"].get_task("compute")
    process_params(task.dag, task, {"backfill_start": "2019-01-01"}, suppress_exception=False)
    assert task.params["backfill_start"] == "2019-01-01"  # what dag.test(run_conf=...) leaves behind in-process


def test_the_next_test_starts_from_the_declared_params(dagbag):
    assert dagbag.dags["correlations"].get_task("compute").params["backfill_start"] is None
