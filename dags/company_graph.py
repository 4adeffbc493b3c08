"""Pipeline 2 — company graph: fundamentals into the ledger, competitors from the analyst, then
Company/Sector nodes with BELONGS_TO and COMPETES_WITH in Neo4j, descriptions in Chroma and
metadata in Redis; the ledger's sector momentum is recomputed (sectors decide its members).
Weekly for live use; trigger by hand with Params.
"""

from __future__ import annotations

from airflow.sdk import dag, task

from axiom.pipelines import companies
from axiom_airflow.assets import COMPANY_FUNDAMENTALS
from axiom_airflow.common import DAG_DEFAULTS, migrated_stores, origin, parsed, provider_param, symbols_param
from axiom_airflow.operators.pipeline_step import pipeline_tasks


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
    def load_fundamentals(params=None, dag_run=None) -> int:
        with migrated_stores() as stores:
            return companies.load_fundamentals(
                stores.ledger, parsed(companies.CompanyParams.parse, params), origin=origin(dag_run)
            )

    loaded = load_fundamentals()
    pipeline_tasks(companies.STEPS, loaded, outlets=[COMPANY_FUNDAMENTALS])


company_graph()
