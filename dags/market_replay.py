"""Axiom live: replay real sessions one at a time, as a market moves (``axiom.replay``).

The one task is the replay's clock: it releases a session, then asks Airflow (its REST API) to run
``price_ingestion`` on the ``replay`` provider, which serves nothing after the clock; ``divergence_alerts``
follows by the AssetWatcher, then ``market_events`` and ``correlations`` run on that session. Run it on
stores of their own (``make replay``), never on the data of ``make run``: the replay's history starts over.
Stopping and triggering again resumes after the ledger's newest session.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Param, dag, task

from axiom import replay
from axiom_airflow.common import DAG_DEFAULTS, date_param, parsed, symbols_param
from axiom_airflow.rest import AirflowRest
from axiom_airflow.stores import StoreSession


@dag(
    dag_id="market_replay",
    schedule=None,
    tags=["axiom", "live", "workflow"],
    doc_md=__doc__,
    params={
        "first": Param("2020-02-18", type="string", format="date", title="From", description="First session released."),
        "last": Param("2020-04-30", type="string", format="date", title="To", description="Last session released."),
        "every_seconds": Param(15, type="number", minimum=0, maximum=86400, title="Seconds per session"),
        "source": Param(
            "offline",
            type="string",
            enum=["offline", "synthetic"],
            title="Source",
            description="offline: the real packaged history; synthetic: the simulated universe (load).",
        ),
        "symbols": symbols_param("Empty means the source's whole universe."),
        "history_from": date_param("Backfill from", "History before From is loaded from here if missing (empty: all)."),
        "attempts": Param(3, type="integer", minimum=1, maximum=10, title="Runs of a failing session"),
    },
    # a retried task resumes after the ledger's newest session; six hours hold 1,400 sessions at 15 s
    **{
        **DAG_DEFAULTS,
        "default_args": {**DAG_DEFAULTS["default_args"], "retries": 1, "execution_timeout": timedelta(hours=6)},
    },
)
def market_replay():
    @task
    def release_sessions(params=None) -> dict:
        request = parsed(replay.ReplayParams.parse, params)
        airflow = AirflowRest()
        try:
            with StoreSession() as stores:
                return replay.replay(stores.ledger, stores.client("redis_client"), request, airflow, say=print)
        finally:
            airflow.close()

    release_sessions()


market_replay()
