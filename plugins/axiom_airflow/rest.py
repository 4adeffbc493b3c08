"""Airflow's public REST API as the replay's orchestrator: trigger a DAG run with its conf, read its state.

A replay advances its clock and then asks Airflow to run the usual DAGs, exactly as a market-close feed
would ask a live deployment (``axiom.replay``). The token is a JWT the api-server's own auth manager
signs for an admin named ``axiom-replay`` (this process holds the same signing secret as the api-server:
``scripts/env.sh`` loads it); ``AXIOM_AIRFLOW_TOKEN`` overrides it where another auth manager runs.
"""

from __future__ import annotations

import logging
import os
import time
from datetime import UTC, datetime

import httpx

log = logging.getLogger(__name__)

FINISHED = ("success", "failed")


def _token() -> str:
    if os.environ.get("AXIOM_AIRFLOW_TOKEN"):
        return os.environ["AXIOM_AIRFLOW_TOKEN"]
    from airflow.api_fastapi.app import init_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    return init_auth_manager().generate_jwt(SimpleAuthManagerUser(username="axiom-replay", role="admin"))


class AirflowRest:
    """Trigger runs and wait for them through ``/api/v2`` of the api-server on ``AIRFLOW__API__PORT``."""

    def __init__(self, base_url: str | None = None, *, poll_seconds: float = 0.5) -> None:
        port = os.environ.get("AIRFLOW__API__PORT", "8080")
        self.base_url = base_url or f"http://127.0.0.1:{port}"
        self.poll_seconds = poll_seconds
        self._client: httpx.Client | None = None

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(
                base_url=f"{self.base_url}/api/v2", headers={"Authorization": f"Bearer {_token()}"}, timeout=30
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def _checked(self, response: httpx.Response) -> dict:
        if response.is_error:
            raise RuntimeError(f"Airflow answered {response.status_code} to {response.request.url}: {response.text}")
        return response.json()

    def unpause(self, dag_id: str, *, parse_timeout: float = 300) -> None:
        """Unpause ``dag_id``, waiting (up to ``parse_timeout`` s) for the dag-processor to have parsed it."""
        deadline = time.monotonic() + parse_timeout
        while (response := self.client.patch(f"/dags/{dag_id}", json={"is_paused": False})).status_code == 404:
            if time.monotonic() > deadline:
                break
            log.info("waiting for the dag-processor to parse %s", dag_id)
            time.sleep(2)
        self._checked(response)

    def trigger(self, dag_id: str, conf: dict, *, label: str) -> str:
        """Start a manual run of ``dag_id`` with ``conf``; return its run id (``replay__<label>__<time>``)."""
        run_id = f"replay__{label}__{datetime.now(UTC):%Y%m%dT%H%M%S%f}"
        body = {"dag_run_id": run_id, "logical_date": None, "conf": conf}
        return self._checked(self.client.post(f"/dags/{dag_id}/dagRuns", json=body))["dag_run_id"]

    def state(self, dag_id: str, run_id: str) -> str:
        return self._checked(self.client.get(f"/dags/{dag_id}/dagRuns/{run_id}"))["state"]

    def wait(self, dag_id: str, run_id: str, *, timeout: float) -> str:
        """The run's final state (``success`` or ``failed``), or ``timeout`` when it has not finished in time."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.state(dag_id, run_id)
            if state in FINISHED:
                return state
            time.sleep(self.poll_seconds)
        return "timeout"

    def run_count(self, state: str, *, since: datetime | None = None) -> int:
        """How many runs of every DAG are in ``state`` (``queued``, ``failed``), of those started ``since`` when given:
        a replay's backlog, its failures."""
        params = {"state": state, "limit": 1} | ({"start_date_gte": since.isoformat()} if since else {})
        return self._checked(self.client.get("/dags/~/dagRuns", params=params))["total_entries"]

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        """Every task instance of the run, with its queued, start and end times (what the hop table's
        Airflow share reads)."""
        return self._checked(self.client.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances"))["task_instances"]
