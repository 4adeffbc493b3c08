"""The scripts a user may call, and the Python they call instead of carrying Python source."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

from axiom_airflow import listings

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = [*sorted((ROOT / "scripts").glob("*.sh")), ROOT / ".ci" / "run"]


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_every_script_names_its_interpreter_and_is_executable(script):
    assert script.read_text().startswith("#!/usr/bin/env bash\n")
    assert os.access(script, os.X_OK)


def test_env_sh_runs_a_command_when_another_program_starts_it():
    # no shell in between (as timeout, xargs, cron or a Python subprocess start it): the kernel reads #!
    done = subprocess.run(
        [ROOT / "scripts" / "env.sh", "python", "-c", "import os, axiom; print(os.environ['AIRFLOW_HOME'])"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("/airflow")


def _python_env(**extra) -> dict:
    """This interpreter first on PATH, the package importable: as scripts/env.sh gives every script."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return {**os.environ, "PATH": path, "PYTHONPATH": str(ROOT / "include"), **extra}


def test_connection_parts_survive_a_shell_eval_whatever_the_password():
    password = 'it\'s $HOME; `rm -rf /` "quoted" & more'
    env = _python_env(AIRFLOW_CONN_AXIOM_SCRATCH=f"postgresql://axiom:{quote(password, safe='')}@127.0.0.1:5999/ledger")
    done = subprocess.run(
        ["bash", "-c", 'eval "$(python -m axiom.connections parts X=axiom_scratch)" && printf "%s\\n" '
         '"$X_HOST" "$X_PORT" "$X_LOGIN" "$X_PASSWORD" "$X_SCHEMA"'],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["127.0.0.1", "5999", "axiom", password, "ledger"]


def test_connection_parts_of_an_unset_variable_are_an_error_that_names_it():
    env = {k: v for k, v in _python_env().items() if k != "AIRFLOW_CONN_AXIOM_SCRATCH"}
    done = subprocess.run(
        [sys.executable, "-m", "axiom.connections", "parts", "X=axiom_scratch"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 1 and done.stdout == ""
    assert "AIRFLOW_CONN_AXIOM_SCRATCH is not set" in done.stderr


def _listing(rows: list[dict]) -> list[str]:
    """What the CLI prints on stdout: warnings first, then the JSON on one line."""
    return ["You might need to install the graphviz package", json.dumps(rows)]


def test_paused_lists_the_dags_that_are_paused_or_not_parsed_yet():
    dags = _listing([{"dag_id": "ask", "is_paused": "False"}, {"dag_id": "semantic_search", "is_paused": "True"}])
    assert listings.paused(listings.listed(dags), ["ask", "semantic_search", "evaluate_signals"]) == [
        "semantic_search",
        "evaluate_signals",
    ]


def test_run_states():
    runs = listings.listed(
        _listing([
            {"run_id": "make_run__1", "state": "success", "run_after": "2026-01-02T10:00:00+00:00"},
            {"run_id": "asset_triggered__a", "state": "success", "run_after": "2026-01-02T10:05:00+00:00"},
            {"run_id": "asset_triggered__b", "state": "running", "run_after": "2026-01-02T10:06:00+00:00"},
        ])
    )  # fmt: skip
    assert listings.run_state(runs, "make_run__1") == "success"
    assert listings.run_state(runs, "make_run__2") == "queued"
    assert listings.asset_runs_state(runs, "2026-01-02T10:00:00") == "waiting"  # b is still running
    assert listings.asset_runs_state(runs[:2], "2026-01-02T10:00:00") == "success"
    assert listings.asset_runs_state(runs, "2026-01-02T11:00:00") == "waiting"  # none since
