"""The host a task instance records: Airflow's FQDN, and the Celery worker's name where one is set."""

from __future__ import annotations

from airflow.sdk.api.client import get_hostname
from airflow.utils.net import getfqdn


def test_the_task_runner_names_the_worker_it_runs_on(monkeypatch):
    monkeypatch.setenv("AXIOM_WORKER_NAME", "worker2")
    assert get_hostname() == f"{getfqdn()}:worker2"  # what the SDK sends when a task starts and heartbeats


def test_without_a_worker_name_the_host_is_airflows_default(monkeypatch):
    monkeypatch.delenv("AXIOM_WORKER_NAME", raising=False)
    assert get_hostname() == getfqdn()
