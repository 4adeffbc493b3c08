# Airflow 3 with Axiom's Python stack, for docker compose.
FROM apache/airflow:3.3.2-python3.11
COPY requirements.txt requirements-nodeps.txt /opt/axiom/
RUN pip install --no-cache-dir -r /opt/axiom/requirements.txt \
 && pip install --no-cache-dir --no-deps -r /opt/axiom/requirements-nodeps.txt
# folders the named volumes mount over: owned by the airflow user, so a fresh volume is writable
USER root
RUN mkdir -p /opt/airflow/auth /opt/axiom/landing /opt/axiom/embedder \
 && chown -R airflow: /opt/airflow/auth /opt/axiom/landing /opt/axiom/embedder
USER airflow
# the text embedder's ONNX graph, built once into the image from the packaged weights (axiom.embedding
# needs nothing else of Axiom's, whose code the compose file mounts at run time)
ENV AXIOM_EMBEDDER_DIR=/opt/axiom/embedder
COPY --chown=airflow:root include/axiom/__init__.py include/axiom/embedding.py /opt/axiom/build/axiom/
RUN PYTHONPATH=/opt/axiom/build python -m axiom.embedding && rm -rf /opt/axiom/build
