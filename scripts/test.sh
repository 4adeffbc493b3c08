#!/usr/bin/env bash
# `make test`: pytest against the real services, on stores of its own (see use_test_stores in env.sh):
# the data of `make run` and a running Airflow are left alone. Airflow's metadata for the tests'
# dag.test() runs and Airflow components lives in "airflow_test"; the paid API is never called.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$ROOT"

use_test_stores
export AIRFLOW__CORE__EXECUTOR=LocalExecutor  # whatever AXIOM_EXECUTOR says: test_celery.py starts its own workers
"$ROOT/scripts/services.sh" start-test
airflow db migrate >"$STATE/airflow/migrate-test.log" 2>&1 || { tail -n 20 "$STATE/airflow/migrate-test.log"; exit 1; }
exec python -m pytest "$@"
