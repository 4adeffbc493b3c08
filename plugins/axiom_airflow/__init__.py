"""Airflow adapters for Axiom: the Chroma hook, store clients from connections, and Assets."""
