-- Docker only: the Airflow metadata database beside Axiom's ledger on the same server.
CREATE DATABASE airflow;
