"""Every DAG imports, and has tags and retries."""

from __future__ import annotations


def test_dags_import_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert "price_ingestion" in dagbag.dags


def test_every_dag_has_tags_and_retries(dagbag):
    for dag_id, dag in dagbag.dags.items():
        assert dag.tags, f"{dag_id} has no tags"
        for task in dag.tasks:
            assert task.retries >= 1, f"{dag_id}.{task.task_id} has no retries"


def test_price_ingestion_shape(dagbag):
    dag = dagbag.dags["price_ingestion"]
    assert set(dag.params) == {"symbols", "start", "end", "provider"}
    announce = dag.get_task("announce")
    # the announcement comes after every projection, and it is the task that emits the Asset
    assert {"cache_latest", "graph_stocks", "vectorise_patterns"} <= announce.upstream_task_ids
    assert [a.name for a in announce.outlets] == ["price_bar"]
    assert dag.get_task("load").upstream_task_ids == {"validate"}
