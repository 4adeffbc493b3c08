#!/usr/bin/env bash
# `make test`: pytest against the real services, with Airflow's metadata in its own database
# ("airflow_test"), so that a scheduler left running by `make run` never picks up the tests' runs.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$ROOT"

export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="${AIRFLOW__DATABASE__SQL_ALCHEMY_CONN%/*}/airflow_test"
airflow db migrate >"$STATE/airflow/migrate-test.log" 2>&1 || { tail -n 20 "$STATE/airflow/migrate-test.log"; exit 1; }
exec python -m pytest "$@"
