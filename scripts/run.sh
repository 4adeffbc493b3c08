#!/usr/bin/env bash
# `make run`: start Airflow, run every pipeline through the scheduler on the bundled real data,
# wait for each run, then print a summary per store. Services stay up: the UI shows the runs.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$ROOT"

scripts/services.sh start-airflow

# poll DAG_ID TRIES MODE ARG: every 5 s read the DAG's runs and their state by MODE (run RUN_ID, or
# asset-runs SINCE: see plugins/axiom_airflow/listings.py). Stops at success or failed; echoes the last state.
poll() {
  local dag_id=$1 tries=$2 mode=$3 arg=$4 state=waiting
  for _ in $(seq "$tries"); do
    state=$(airflow dags list-runs "$dag_id" -o json 2>/dev/null | python -m axiom_airflow.listings "$mode" "$arg")
    case "$state" in success|failed) break ;; esac
    sleep 5
  done
  echo "$state"
}

# unpause DAG_ID...: once the dag-processor has parsed them (`airflow dags unpause` succeeds, saying
# nothing, for a DAG it does not know yet, which is then created paused), every one unpaused
unpause() {
  local waiting
  for _ in $(seq 60); do
    waiting=$(airflow dags list -o json 2>/dev/null | python -m axiom_airflow.listings paused "$@")
    [ -z "$waiting" ] && return 0
    airflow dags unpause --treat-dag-id-as-regex --yes "^($(echo "$waiting" | paste -sd '|'))\$" >/dev/null 2>&1 || true
    sleep 5
  done
  echo "[run] still paused or not parsed after 5 minutes: $waiting (scripts/env.sh airflow dags list-import-errors)" >&2
  return 1
}

# report DAG_ID STATE: success returns 0; anything else says where to look and returns 1
report() {
  [ "$2" = success ] && { echo "[run] $1: success"; return 0; }
  echo "[run] $1: $2; task logs are under $AIRFLOW_HOME/logs and in the UI" >&2
  return 1
}

# trigger_and_wait DAG_ID CONF_JSON: unpause, trigger a manual run, wait (30 min at most) until it finishes
trigger_and_wait() {
  local dag_id=$1 conf=$2 run_id
  run_id="make_run__$(date -u +%Y%m%dT%H%M%S)"
  unpause "$dag_id"
  echo "[run] $dag_id: triggering $run_id with $conf"
  airflow dags trigger "$dag_id" --run-id "$run_id" --conf "$conf" >/dev/null
  report "$dag_id" "$(poll "$dag_id" 360 run "$run_id")"
}

# wait_for_asset_run DAG_ID SINCE: wait (20 min at most) until the runs that Asset events, not this
# script, started after SINCE have all finished, and the newest succeeded
wait_for_asset_run() {
  echo "[run] $1: waiting for the runs its Asset trigger started"
  report "$1" "$(poll "$1" 240 asset-runs "$2")"
}

# the DAGs that run on Assets (divergence_alerts: price_updates and price_bar) or only when triggered,
# so a trigger from the UI's form runs at once; each pipeline is unpaused when this script first runs it
# (unpausing a scheduled DAG starts the run of its newest past schedule)
unpause semantic_index divergence_alerts ask semantic_search evaluate_signals rebuild_projections market_replay
since=$(date -u +%Y-%m-%dT%H:%M:%S)
trigger_and_wait company_graph '{"symbols": [], "provider": "offline"}'
trigger_and_wait price_ingestion '{"symbols": [], "start": null, "end": null, "provider": "offline"}'
trigger_and_wait market_events '{"symbols": [], "start": null, "end": null, "k": 5.0, "window": 60, "provider": "offline"}'
trigger_and_wait correlations '{"symbols": [], "window": 30, "threshold": 0.7, "as_of": null, "backfill_start": "2022-01-01", "backfill_end": "2022-12-31"}'
wait_for_asset_run semantic_index "$since"

echo
echo "Questions answered from the stores:"
echo; echo "Which companies are oil and gas producers?"
python -m axiom search "oil and gas producer" --kinds companies --k 3
echo; echo "Which companies are most like JPM?"
python -m axiom similar-companies JPM --k 3
echo; echo "Which Fed decisions raised interest rates?"
python -m axiom search "federal reserve raises interest rates" --event-type fed_decision --k 3
echo; echo "When did AAPL's 30 sessions to 2020-03-31 look like this before, and what followed over 20 sessions?"
python -m axiom similar-patterns AAPL --as-of 2020-03-31 --horizon 20 --k 3

echo
echo "The four questions, answered from all four stores (python -m axiom ask ...):"
echo; python -m axiom ask buy AAPL --as-of 2022-06-15
echo; python -m axiom ask rotation
echo; python -m axiom ask cascade --event 2022-06-15
echo; python -m axiom ask like AAPL

echo
echo "Divergence alerts (python -m axiom signals):"
python -m axiom signals
echo
echo "Walk-forward evaluation of the signals (python -m axiom evaluate):"
python -m axiom evaluate --charts "$STATE"

echo
echo "Summary per store:"
python -m axiom status --pretty
echo
echo "Airflow UI: http://127.0.0.1:${AIRFLOW__API__PORT:-8080}   (make stop stops every service)"
echo "Axiom page: http://127.0.0.1:${AIRFLOW__API__PORT:-8080}/axiom/?question=buy&symbol=AAPL&as_of=2022-06-15"
[ -n "${AXIOM_MAKE_STARTED:-}" ] && echo "make run took $(($(date +%s) - AXIOM_MAKE_STARTED)) s, install and start included"
