#!/usr/bin/env bash
# `make replay`: Axiom live. Real sessions released one at a time (REPLAY_FROM to REPLAY_TO, one per REPLAY_EVERY)
# through an Airflow of their own on the tests' stores (use_test_stores in env.sh), so the data of `make run` is
# untouched. Prints a line per session and the alerts as they fire, then the comparison with the offline
# recomputation. Run again, it resumes after the newest released session; FRESH=1 empties the tests' stores first.
# The replay's Airflow stays up (its UI and the Axiom page on the next port); `make stop` stops it.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$ROOT"

use_test_stores
export AIRFLOW__CORE__EXECUTOR=LocalExecutor
"$ROOT/scripts/services.sh" start-test
airflow db migrate >"$STATE/airflow/migrate-test.log" 2>&1 || { tail -n 20 "$STATE/airflow/migrate-test.log"; exit 1; }
[ "${FRESH:-0}" = 1 ] && python -m axiom.connections empty-test-stores
python -m axiom migrate >/dev/null
"$ROOT/scripts/services.sh" start-airflow-test

python -m axiom replay --from "${REPLAY_FROM:-2020-02-18}" --to "${REPLAY_TO:-2020-04-30}" \
  --every "${REPLAY_EVERY:-15s}" --source "${REPLAY_SOURCE:-offline}" --history-from "${REPLAY_HISTORY_FROM:-2018-01-02}" \
  ${REPLAY_SYMBOLS:+--symbols "$REPLAY_SYMBOLS"}
echo
echo "Replay's Airflow: http://127.0.0.1:${AIRFLOW__API__PORT}   Axiom page (live panel): http://127.0.0.1:${AIRFLOW__API__PORT}/axiom/"
echo "make stop stops it (and every other service)"
