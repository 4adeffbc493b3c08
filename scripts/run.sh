#!/usr/bin/env bash
# `make run`: start Airflow, run every pipeline through the scheduler on the bundled real data,
# wait for each run, then print a summary per store. Services stay up: the UI shows the runs.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$ROOT"

scripts/services.sh start-airflow

# trigger_and_wait DAG_ID CONF_JSON: unpause, trigger a manual run, wait until it finishes
trigger_and_wait() {
  local dag_id=$1 conf=$2 run_id state
  run_id="make_run__$(date -u +%Y%m%dT%H%M%S)"
  for _ in $(seq 60); do  # the dag-processor needs a moment to parse new DAG files
    airflow dags unpause "$dag_id" >/dev/null 2>&1 && break
    sleep 5
  done
  echo "[run] $dag_id: triggering $run_id with $conf"
  airflow dags trigger "$dag_id" --run-id "$run_id" --conf "$conf" >/dev/null
  for _ in $(seq 360); do
    state=$(airflow dags list-runs "$dag_id" -o json 2>/dev/null |
      python3 -c 'import json, sys
runs = [r for line in sys.stdin if line.startswith("[") for r in json.loads(line)]  # skip log lines
print(next((r["state"] for r in runs if r["run_id"] == sys.argv[1]), "queued"))' "$run_id")
    case "$state" in
      success) echo "[run] $dag_id: success"; return 0 ;;
      failed) echo "[run] $dag_id: FAILED; task logs are under $AIRFLOW_HOME/logs and in the UI" >&2; return 1 ;;
    esac
    sleep 5
  done
  echo "[run] $dag_id: still $state after 30 minutes" >&2
  return 1
}

trigger_and_wait price_ingestion '{"symbols": [], "start": null, "end": null, "provider": "offline"}'
trigger_and_wait company_graph '{"symbols": [], "provider": "offline"}'
trigger_and_wait market_events '{"symbols": [], "start": null, "end": null, "k": 5.0, "window": 60, "provider": "offline"}'

echo
echo "Summary per store:"
python -m axiom status --pretty
echo
echo "Airflow UI: http://127.0.0.1:${AIRFLOW__API__PORT:-8080}   (make stop stops every service)"
