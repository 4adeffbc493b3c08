"""Every Asset Axiom's DAGs produce, declared once. Each names the ledger table it stands for."""

from airflow.sdk import Asset

PRICE_BAR = Asset("price_bar", uri="axiom://ledger/price_bar")
