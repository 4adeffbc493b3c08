"""The host name a task instance records ([core] hostname_callable): Airflow's own FQDN, followed by
the Celery worker's name when AXIOM_WORKER_NAME says it (several workers on one machine, as
scripts/services.sh starts them), so the UI and the metadata database tell worker1 from worker2."""

from __future__ import annotations

import os

from airflow.utils.net import getfqdn


def hostname() -> str:
    name = os.environ.get("AXIOM_WORKER_NAME")
    return f"{getfqdn()}:{name}" if name else getfqdn()
