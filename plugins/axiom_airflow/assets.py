"""Every Asset Axiom's DAGs produce or watch, declared once."""

from airflow.providers.common.messaging.triggers.msg_queue import MessageQueueTrigger
from airflow.sdk import Asset, AssetWatcher

from axiom import config
from axiom.stores import cache

# Ledger tables the pipelines write (each names the table it stands for)
PRICE_BAR = Asset("price_bar", uri="axiom://ledger/price_bar")
COMPANY_FUNDAMENTALS = Asset("company_fundamentals", uri="axiom://ledger/company_fundamentals")
MARKET_EVENT = Asset("market_event", uri="axiom://ledger/market_event")
CORRELATION = Asset("correlation", uri="axiom://ledger/correlation")

# The semantic index runs when any pipeline has written to the ledger and its projections.
LEDGER_UPDATED = PRICE_BAR | COMPANY_FUNDAMENTALS | MARKET_EVENT | CORRELATION

# The price_updates channel, watched by the triggerer: each message is an Asset event at once.
PRICE_UPDATES = Asset(
    "price_updates",
    uri="axiom://redis/price_updates",
    watchers=[
        AssetWatcher(
            name="price_updates_watcher",
            trigger=MessageQueueTrigger(
                scheme="redis+pubsub",
                channels=[cache.PRICE_UPDATES],
                redis_conn_id=config.REDIS_CONN_ID,
                poll_interval=1,
            ),
        )
    ],
)
