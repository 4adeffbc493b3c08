"""Every Asset Axiom's DAGs produce, declared once. Each names the ledger table it stands for."""

from airflow.sdk import Asset

PRICE_BAR = Asset("price_bar", uri="axiom://ledger/price_bar")
COMPANY_FUNDAMENTALS = Asset("company_fundamentals", uri="axiom://ledger/company_fundamentals")
MARKET_EVENT = Asset("market_event", uri="axiom://ledger/market_event")
CORRELATION = Asset("correlation", uri="axiom://ledger/correlation")

# The semantic index runs when any pipeline has written to the ledger and its projections.
LEDGER_UPDATED = PRICE_BAR | COMPANY_FUNDAMENTALS | MARKET_EVENT | CORRELATION
