"""What scripts/run.sh reads from the JSON listings of Airflow's CLI (``-o json``, on stdin).

airflow dags list -o json | python -m axiom_airflow.listings paused DAG_ID...
    the DAG ids of those given that are paused, or not parsed yet, one a line
airflow dags list-runs DAG_ID -o json | python -m axiom_airflow.listings run RUN_ID
    that run's state ("queued" until it is listed)
airflow dags list-runs DAG_ID -o json | python -m axiom_airflow.listings asset-runs SINCE
    "waiting" while no run that an Asset event started after SINCE (UTC, ISO) exists or one is
    queued or running; then the newest one's state
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable


def listed(lines: Iterable[str]) -> list[dict]:
    """The rows of a JSON listing; the CLI's other lines on stdout (warnings, logging) are skipped."""
    return [row for line in lines if line.startswith("[") for row in json.loads(line)]


def paused(dags: list[dict], dag_ids: list[str]) -> list[str]:
    """The ``dag_ids`` that are paused or missing (``is_paused`` is listed as "True" or "False")."""
    unpaused = {d["dag_id"] for d in dags if str(d["is_paused"]).lower() == "false"}
    return [dag_id for dag_id in dag_ids if dag_id not in unpaused]


def run_state(runs: list[dict], run_id: str) -> str:
    return next((r["state"] for r in runs if r["run_id"] == run_id), "queued")


def asset_runs_state(runs: list[dict], since: str) -> str:
    started = [r for r in runs if r["run_id"].startswith("asset_triggered__") and r["run_after"] >= since]
    if not started or any(r["state"] in ("queued", "running") for r in started):
        return "waiting"
    return max(started, key=lambda r: r["run_after"])["state"]


def main(argv: list[str]) -> int:
    match argv:
        case ["paused", *dag_ids] if dag_ids:
            print("\n".join(paused(listed(sys.stdin), dag_ids)))
        case ["run", run_id]:
            print(run_state(listed(sys.stdin), run_id))
        case ["asset-runs", since]:
            print(asset_runs_state(listed(sys.stdin), since))
        case _:
            print(__doc__, file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
