"""Fixtures for tests against the real services that `make test` starts.

The stores are the tests' own (scripts/env.sh ``use_test_stores``: a ``*_test`` PostgreSQL
database, Redis db 15, a second Neo4j whose database is ``axiomtest``, Chroma database
``axiom_test``); nothing is wiped unless all four are. Each test that writes starts from empty
stores (`clean_stores`) and leaves its data behind for inspection. The paid API is never called.
"""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from axiom import connections, schema
from axiom.stores import vectors

ROOT = Path(__file__).resolve().parents[1]

if os.environ.get("AXIOM_STORES") != "test":
    pytest.exit("run the tests through `make test`: it points every connection at the tests' own stores", 2)
os.environ.pop("ANTHROPIC_API_KEY", None)  # the Claude path is tested through a fake transport only
os.environ.setdefault("AXIOM_RETRY_DELAY", "1")  # DAG retries a second apart (30 s by default), read at import


@pytest.fixture(scope="session")
def pg():
    with connections.postgres() as conn:
        schema.migrate_postgres(conn)
        yield conn


@pytest.fixture(scope="session")
def redis_client():
    client = connections.redis()
    yield client
    client.close()


@pytest.fixture(scope="session")
def neo4j_driver():
    with connections.neo4j() as driver:
        schema.migrate_neo4j(driver)
        yield driver


@pytest.fixture(scope="session")
def chroma_client():
    return connections.chroma()


def wipe(pg, redis_client, neo4j_driver, chroma_client) -> None:
    """Empty every store Axiom writes to (schema stays), once it is sure they are the test stores."""
    connections.empty_test_stores(pg, redis_client, neo4j_driver, chroma_client)


def load_stores(dagbag, runs, *, pg, redis_client, neo4j_driver, chroma_client, landing: Path) -> None:
    """Empty the test stores, then run each (dag_id, conf) for real with ``dag.test()``, each to success."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AXIOM_LANDING_DIR", str(landing))
        wipe(pg, redis_client, neo4j_driver, chroma_client)
        for dag_id, conf in runs:
            assert dagbag.dags[dag_id].test(run_conf=conf).state == "success", dag_id


@pytest.fixture
def clean_stores(pg, redis_client, neo4j_driver, chroma_client, tmp_path, monkeypatch):
    """Empty stores and a private landing folder for one test."""
    monkeypatch.setenv("AXIOM_LANDING_DIR", str(tmp_path / "landing"))
    wipe(pg, redis_client, neo4j_driver, chroma_client)
    yield tmp_path / "landing"


@pytest.fixture(scope="session")
def dagbag():
    from airflow.models.dagbag import DagBag

    return DagBag(dag_folder=str(ROOT / "dags"))


def _param_objects(bag) -> list:
    """Every Param object of every DAG and task in the bag (tasks share their DAG's)."""
    holders = [d.params for d in bag.dags.values()] + [t.params for d in bag.dags.values() for t in d.tasks]
    return list({id(p): p for h in holders for p in (h.get_param(k) for k in h)}.values())


@pytest.fixture(autouse=True)
def declared_params(request):
    """Each test's DAG runs start from the Params the DAG files declare. dag.test() runs tasks in this
    process, where Airflow's param merge writes a run's conf into the DAG's own Param objects, so a conf
    key one run set would otherwise leak into the next run that leaves it out."""
    if "dagbag" not in request.fixturenames:
        yield
        return
    params = _param_objects(request.getfixturevalue("dagbag"))
    declared = [copy.deepcopy(p.value) for p in params]
    yield
    for param, value in zip(params, declared, strict=True):
        param.value = value


@pytest.fixture
def price_patterns(chroma_client):
    return vectors.price_patterns(chroma_client)


API_URL = f"http://127.0.0.1:{os.environ.get('AIRFLOW__API__PORT', '8081')}"


def _command(part: str) -> tuple[list[str], dict[str, str]]:
    """The command line and extra environment of one component: ``celery worker NAME`` is started as
    scripts/services.sh starts it (Celery node NAME@host, tasks recording the host as HOST:NAME)."""
    match part.split():
        case ["celery", "worker", name]:
            command = ["airflow", "celery", "worker", "--celery-hostname", f"{name}@%h", "--skip-serve-logs"]
            return command, {"AXIOM_WORKER_NAME": name}
        case [component]:
            return ["airflow", component], {}
    raise ValueError(f"not an Airflow component: {part!r}")


@contextmanager
def airflow_components(*parts: str, logs: Path, env: dict[str, str] | None = None):
    """Real Airflow components (``api-server``, ``scheduler``, ``dag-processor``, ``triggerer``,
    ``celery worker NAME``) on the tests' metadata database, each logging to ``logs/<part-with-dashes>.log``, with
    ``env`` over the tests' environment (e.g. another executor); stopped (by their PIDs) on exit."""
    logs.mkdir(parents=True, exist_ok=True)
    started = []
    try:
        for part in parts:
            command, extra = _command(part)
            environment = {**os.environ, **(env or {}), **extra}
            with (logs / f"{part.replace(' ', '-')}.log").open("w") as out:
                started.append(
                    subprocess.Popen(
                        command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env=environment
                    )
                )
        if "api-server" in parts:
            for _ in range(120):
                try:
                    urllib.request.urlopen(f"{API_URL}/api/v2/monitor/health", timeout=2)
                    break
                except OSError:
                    for part, process in zip(parts, started, strict=True):
                        assert process.poll() is None, (logs / f"{part.replace(' ', '-')}.log").read_text()[-2000:]
                    time.sleep(1)
            else:
                pytest.fail(
                    f"the api-server did not answer within 120 s: {(logs / 'api-server.log').read_text()[-2000:]}"
                )
        yield API_URL
    finally:
        for process in started:
            os.killpg(process.pid, signal.SIGTERM)
        for process in started:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def connection_secrets() -> set[str]:
    """Every password in the connections the tests use (AIRFLOW_CONN_* and the metadata database)."""
    from urllib.parse import unquote, urlsplit

    uris = [v for k, v in os.environ.items() if k.startswith("AIRFLOW_CONN_")]
    uris.append(os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    return {unquote(urlsplit(uri).password) for uri in uris if urlsplit(uri).password}


def leaked_secrets(*folders: Path) -> dict[str, list[str]]:
    """Log files under ``folders`` that contain a connection password, by file."""
    secrets = connection_secrets()
    found = {}
    for folder in folders:
        for path in Path(folder).rglob("*"):
            if path.is_file():
                text = path.read_text(errors="replace")
                if hits := sorted(s for s in secrets if s in text):
                    found[str(path)] = [f"{h[:2]}…" for h in hits]
    return found
