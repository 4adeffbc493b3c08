"""Divergence alerts: when correlated stocks move apart. Runs on every ``price_updates`` message (watched
by the triggerer), and on every ``price_bar`` Asset event so an announcement missed while the triggerer
was down is still handled. Each divergence goes to the ledger, the ``signal:stream`` Redis Stream and the
``signal_updates`` channel, once; then ``deliver`` pushes every alert not yet delivered to each configured
channel (``AXIOM_ALERT_WEBHOOK``, ``AXIOM_ALERT_NOTIFIERS``; ``axiom.delivery``), failing, and so retried, while
one refuses.
"""

from __future__ import annotations

import json
import os

from airflow.sdk import Param, dag, task
from airflow.sdk.exceptions import AirflowFailException

from axiom import alerts, delivery
from axiom_airflow.assets import PRICE_BAR, PRICE_UPDATES
from axiom_airflow.common import DAG_DEFAULTS, parsed, symbols_param
from axiom_airflow.notifiers import channels
from axiom_airflow.stores import StoreSession


def updated_symbols(triggering_asset_events) -> list[str] | None:
    """The symbols the triggering price_updates messages name (None: check every pair)."""
    symbols = set()
    for events in (triggering_asset_events or {}).values():
        for event in events:
            payload = (event.extra or {}).get("payload")
            data = payload.get("data") if isinstance(payload, dict) else None
            try:
                symbols.add(json.loads(data)["symbol"])
            except (TypeError, ValueError, KeyError):
                return None  # a price_bar event, or a message without one symbol: check every pair
    return sorted(symbols) or None


@dag(
    dag_id="divergence_alerts",
    schedule=PRICE_UPDATES | PRICE_BAR,
    tags=["axiom", "alerts", "workflow"],
    doc_md=__doc__,
    params={
        "symbols": symbols_param("Only pairs with these symbols; empty means the updated ones (or all)."),
        "min_coefficient": Param(0.8, type="number", exclusiveMinimum=0, maximum=1, title="Minimum |r|"),
        "z_threshold": Param(2.0, type="number", minimum=1, maximum=20, title="Divergence |z| of the spread"),
        "formation": Param(120, type="integer", minimum=30, maximum=1000, title="Formation window (sessions)"),
        "max_pvalue": Param(0.05, type="number", exclusiveMinimum=0, maximum=1, title="Cointegration p-value at most"),
        "min_half_life": Param(1.0, type="number", exclusiveMinimum=0, title="Half-life at least (sessions)"),
        "max_half_life": Param(30.0, type="number", exclusiveMinimum=0, title="Half-life at most (sessions)"),
        "stop_half_lives": Param(2.0, type="number", exclusiveMinimum=0, maximum=20, title="Time stop (half-lives)"),
    },
    **DAG_DEFAULTS,
)
def divergence_alerts():
    @task
    def alert(params=None, triggering_asset_events=None) -> dict:
        request = parsed(
            alerts.AlertParams.parse,
            {**params, "symbols": params["symbols"] or updated_symbols(triggering_asset_events)},
        )
        with StoreSession() as stores:
            return alerts.alert(stores.ledger, stores.client("driver"), stores.client("redis_client"), request)

    @task
    def deliver() -> dict:
        try:
            params = delivery.DeliveryParams.from_env(os.environ)
            configured = channels(os.environ, params)
        except ValueError as exc:  # a configuration no retry can fix
            raise AirflowFailException(f"alert channels: {exc}") from exc
        if not configured:
            return {}
        with StoreSession() as stores:
            outcome = delivery.deliver(stores.ledger, configured, params)
        if failing := sorted(name for name, o in outcome.items() if o["failed"]):
            raise RuntimeError(f"alert delivery failed on {', '.join(failing)} (kept in signal_delivery; retried)")
        return outcome

    alert() >> deliver()


divergence_alerts()
