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
export PYTHONPATH="$ROOT/include:$ROOT/plugins:$ROOT/dags${PYTHONPATH:+:$PYTHONPATH}"
export PATH="$VENV/bin:$PATH"
# the bundled MiniLM is loaded from site-packages; nothing may download weights at run time
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 ANONYMIZED_TELEMETRY=False TQDM_DISABLE=1

if [ "${BASH_SOURCE[0]}" = "$0" ] && [ $# -gt 0 ]; then
  cd "$ROOT" && exec "$@"
fi
