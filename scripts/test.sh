#!/usr/bin/env bash
# `make test`: pytest against the real services. The tests need the stores to themselves, so
# Airflow's components (left running by `make run`) are stopped first, and Airflow's metadata for
# the tests' dag.test() runs lives in its own database ("airflow_test").
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$ROOT"

"$ROOT/scripts/services.sh" stop-airflow

export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="${AIRFLOW__DATABASE__SQL_ALCHEMY_CONN%/*}/airflow_test"
airflow db migrate >"$STATE/airflow/migrate-test.log" 2>&1 || { tail -n 20 "$STATE/airflow/migrate-test.log"; exit 1; }
exec python -m pytest "$@"
