#!/usr/bin/env bash
# Sourced by every Axiom script: one place that knows where things live.
# Usage as a wrapper: scripts/env.sh COMMAND [ARGS...] runs COMMAND inside Axiom's environment.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

set -a
# shellcheck disable=SC1091
. "$ROOT/.env"
# machine-local overrides (other ports, another state folder), never committed
# shellcheck disable=SC1091
[ -f "$ROOT/.env.local" ] && . "$ROOT/.env.local"
set +a

STATE="${AXIOM_STATE_DIR:-$ROOT/.state}"
VENV="${AXIOM_VENV:-$ROOT/.venv}"
export ROOT STATE VENV
set -a
# shellcheck disable=SC1091
[ -f "$STATE/airflow/secrets.env" ] && . "$STATE/airflow/secrets.env"
set +a

export AIRFLOW_HOME="$STATE/airflow"
export AIRFLOW__CORE__DAGS_FOLDER="$ROOT/dags"
export AIRFLOW__CORE__PLUGINS_FOLDER="$ROOT/plugins"
export AIRFLOW__LOGGING__BASE_LOG_FOLDER="$STATE/airflow/logs"
export AXIOM_LANDING_DIR="${AXIOM_LANDING_DIR:-$STATE/landing}"
export AXIOM_SYNTHETIC_DIR="${AXIOM_SYNTHETIC_DIR:-$STATE/synthetic}"
# the text embedder's ONNX graph, built from the packaged weights by scripts/setup.sh (axiom.embedding)
export AXIOM_EMBEDDER_DIR="${AXIOM_EMBEDDER_DIR:-$STATE/embedder}"
export PYTHONPATH="$ROOT/include:$ROOT/plugins:$ROOT/dags${PYTHONPATH:+:$PYTHONPATH}"
export PATH="$VENV/bin:$PATH"
# nothing may download weights at run time (the text embedder reads the packaged MiniLM only)
export HF_HUB_OFFLINE=1 ANONYMIZED_TELEMETRY=False TQDM_DISABLE=1

# AXIOM_EXECUTOR (shell, .env.local or `make run EXECUTOR=celery`): local runs tasks in the scheduler,
# celery on `airflow celery worker` processes that take them from db 1 of Axiom's Redis and keep their
# results in the Airflow metadata database. The Celery settings are set for either, read only by Celery.
case "${AXIOM_EXECUTOR:=local}" in
  local) export AIRFLOW__CORE__EXECUTOR=LocalExecutor ;;
  celery) export AIRFLOW__CORE__EXECUTOR=CeleryExecutor ;;
  *) echo "env.sh: AXIOM_EXECUTOR must be local or celery, not '$AXIOM_EXECUTOR'" >&2; return 1 2>/dev/null || exit 1 ;;
esac
export AXIOM_EXECUTOR
celery_settings() {
  export AIRFLOW__CELERY__BROKER_URL="${AIRFLOW_CONN_AXIOM_REDIS%%\?*}/1"
  export AIRFLOW__CELERY__RESULT_BACKEND="db+$AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"
}
celery_settings

# use_test_stores: point every connection at the stores of tests and benchmarks, which never hold a
# user's data: database "<name>_test" on the same PostgreSQL; a second Redis on the next port (pub/sub
# channels are server-wide, so a db number alone would share them), db 15; a second Neo4j on the next
# port (its database is named "axiomtest", which the test fixtures check before they wipe anything);
# a second Chroma on the next port, database "axiom_test"; Airflow metadata in "<its database>_test" ("airflow_test") and an
# api-server on the next port. Each test server can be stopped and restarted by the fault tests alone.
use_test_stores() {
  local pg_db="${AIRFLOW_CONN_AXIOM_POSTGRES##*/}" redis="${AIRFLOW_CONN_AXIOM_REDIS%%\?*}"
  local neo4j_port="${AIRFLOW_CONN_AXIOM_NEO4J##*:}" api_port="${AIRFLOW__API__PORT:-8080}"
  local chroma="${AIRFLOW_CONN_AXIOM_CHROMA%%\?*}" airflow_db="${AIRFLOW__DATABASE__SQL_ALCHEMY_CONN##*/}"
  case "${redis##*:}.${neo4j_port}.${chroma##*:}" in
    *[!0-9.]*|*..*|.*|*.) echo "use_test_stores: the Redis, Neo4j and Chroma connections need host:port (a server)" >&2
                          return 1 ;;
  esac
  export AXIOM_STORES=test
  export AIRFLOW_CONN_AXIOM_POSTGRES="${AIRFLOW_CONN_AXIOM_POSTGRES%/*}/${pg_db%%\?*}_test"
  export AIRFLOW_CONN_AXIOM_REDIS="${redis%:*}:$((${redis##*:} + 1))?db=15"
  export AIRFLOW_CONN_AXIOM_NEO4J="${AIRFLOW_CONN_AXIOM_NEO4J%:*}:$((neo4j_port + 1))"
  export AIRFLOW_CONN_AXIOM_CHROMA="${chroma%:*}:$((${chroma##*:} + 1))?database=axiom_test"
  export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="${AIRFLOW__DATABASE__SQL_ALCHEMY_CONN%/*}/${airflow_db%%\?*}_test"
  export AIRFLOW__API__PORT=$((api_port + 1))
  export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="http://127.0.0.1:$((api_port + 1))/execution/"
  export AIRFLOW__LOGGING__BASE_LOG_FOLDER="$STATE/airflow/test-logs"
  export AXIOM_LANDING_DIR="$STATE/test-landing"
  export AXIOM_AIRFLOW_RUN="$STATE/airflow/test-run"  # PID files of an Airflow on these stores (make replay)
  celery_settings  # a broker on the tests' Redis server, results in the test metadata database
  unset ANTHROPIC_API_KEY  # tests and benchmarks never call the paid API
}

if [ "${BASH_SOURCE[0]}" = "$0" ] && [ $# -gt 0 ]; then
  cd "$ROOT" && exec "$@"
fi
