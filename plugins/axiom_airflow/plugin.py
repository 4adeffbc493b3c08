"""The Airflow plugin: Axiom's API and page in the api-server, and "Axiom" in the UI's navigation."""

from __future__ import annotations

from typing import ClassVar

from airflow.plugins_manager import AirflowPlugin

from axiom_airflow.api import app


class AxiomPlugin(AirflowPlugin):
    name = "axiom"
    fastapi_apps: ClassVar[list[dict]] = [{"app": app, "url_prefix": "/axiom", "name": "Axiom"}]
    external_views: ClassVar[list[dict]] = [
        {"name": "Axiom", "href": "/axiom/", "destination": "nav", "url_route": "axiom", "category": "browse"},
        {
            "name": "Axiom: what this run wrote",
            "href": "/axiom/runs/{DAG_ID}/{RUN_ID}",
            "destination": "dag_run",
            "url_route": "axiom-run",
        },
    ]
