"""What every test shares: no paid API, and the DAG files parsed once.

Outside scripts/env.sh (``pytest tests/unit tests/dags`` from the venv) Airflow gets a home of its own,
deleted afterwards, and the core settings of .env, but no connection and no metadata database: those
tests need no service. The tests of the real stores are under tests/integration (see its conftest).
"""

from __future__ import annotations

import copy
import os
import re
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

if "AIRFLOW_HOME" not in os.environ:  # read when airflow is first imported
    _airflow_home = tempfile.TemporaryDirectory(prefix="axiom-test-airflow-")
    os.environ["AIRFLOW_HOME"] = _airflow_home.name
    for key, value in re.findall(r"^(AIRFLOW__CORE__\w+)=(.*)$", (ROOT / ".env").read_text(), re.MULTILINE):
        os.environ.setdefault(key, value)
os.environ.pop("ANTHROPIC_API_KEY", None)  # the Claude path is tested through a fake transport only
os.environ.setdefault("AXIOM_RETRY_DELAY", "1")  # DAG retries a second apart (30 s by default), read at import


def _params(bag):
    """Every Param object of every DAG and of each of its tasks (each task holds copies of its DAG's)."""
    for dag in bag.dags.values():
        for holder in (dag, *dag.tasks):
            yield from (holder.params or {}).values()


@pytest.fixture(scope="session")
def dagbag():
    from airflow.models.dagbag import DagBag

    bag = DagBag(dag_folder=str(ROOT / "dags"))
    bag.declared_params = [(param, copy.deepcopy(param.value)) for param in _params(bag)]
    return bag


@pytest.fixture(autouse=True)
def _dag_params_as_declared(request):
    """Each test's DAG runs start from the declared Params: ``dag.test(run_conf=...)`` resolves the conf into the
    tasks' own Param objects (Airflow's ``process_params`` keeps them by reference), so one test's conf would
    otherwise be the next test's default in this process."""
    yield
    if "dagbag" in request.fixturenames:
        for param, value in request.getfixturevalue("dagbag").declared_params:
            param.value = copy.deepcopy(value)


def pytest_terminal_summary(terminalreporter):
    """`make test`'s whole time, install and start included (the Makefile stamps when make began)."""
    started = os.environ.get("AXIOM_MAKE_STARTED")
    if started:
        import time

        terminalreporter.write_line(f"make test: {time.time() - int(started):.0f} s since make began, install included")
