"""Pipeline 2 — company graph: fundamentals into the ledger, competitors from the analyst, then
Company/Sector nodes with BELONGS_TO and COMPETES_WITH in Neo4j, descriptions in Chroma and
metadata in Redis. Weekly for live use; trigger by hand with Params.
"""

from __future__ import annotations

from functools import partial

from airflow.sdk import chain, dag, task

from axiom.config import Settings
from axiom.pipelines import companies
from axiom_airflow import stores
from axiom_airflow.assets import COMPANY_FUNDAMENTALS
from axiom_airflow.common import DAG_DEFAULTS, migrate_schema, provider_param, symbols_param
from axiom_airflow.operators.pipeline_step import pipeline_step


@dag(
    dag_id="company_graph",
    schedule="0 6 * * 6",
    tags=["axiom", "companies", "pipeline-2"],
    doc_md=__doc__,
    params={
        "symbols": symbols_param("Companies to (re)build; empty means all known."),
        "provider": provider_param("offline: sourced fixture; yfinance: live Ticker.info."),
    },
    **DAG_DEFAULTS,
)
def company_graph():
    @task
    def load_fundamentals(params=None) -> int:
        with stores.ledger() as conn:
            return companies.load_fundamentals(conn, provider=params["provider"], symbols=params["symbols"] or None)

    loaded = load_fundamentals()
    migrate_schema() >> loaded
    step = partial(pipeline_step, "axiom.pipelines.companies", ingestion_run_id=loaded)
    chain(
        loaded,
        step("name_competitors", clients=["judge"]),
        step("graph_companies", clients=["graph"]),
        step("vectorise_descriptions", clients=["vectors"]),
        step("cache_metadata", clients=["cache"], ttl_seconds=Settings.from_env().company_metadata_ttl),
        step("announce", clients=["cache"], outlets=[COMPANY_FUNDAMENTALS]),
    )


company_graph()
