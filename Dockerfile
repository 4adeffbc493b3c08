# Airflow 3 with Axiom's Python stack, for docker compose.
FROM apache/airflow:3.3.2-python3.11
COPY requirements.txt /opt/axiom/requirements.txt
RUN pip install --no-cache-dir -r /opt/axiom/requirements.txt
# folders the named volumes mount over: owned by the airflow user, so a fresh volume is writable
USER root
RUN mkdir -p /opt/airflow/auth /opt/axiom/landing && chown -R airflow: /opt/airflow/auth /opt/axiom/landing
USER airflow
