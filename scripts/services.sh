#!/usr/bin/env bash
# Start, stop and inspect Axiom's local services without Docker.
#   services.sh start           PostgreSQL, Redis, Neo4j, ChromaDB; Airflow metadata DB migrated
#   services.sh start-test      the tests' own Redis, Neo4j (database "axiomtest") and ChromaDB, each on the next port
#   services.sh start-airflow   Airflow 3 api-server, scheduler, dag-processor and triggerer; with
#                               AXIOM_EXECUTOR=celery also two Celery workers, worker1 and worker2
#   services.sh start-airflow-test  the same on the tests' stores (next port, PID files in $STATE/airflow/test-run):
#                               the Airflow of `make replay`
#   services.sh stop-airflow    stops only the Airflow components
#   services.sh stop            stops every process these commands started (by their PID files)
#   services.sh status          one line per service
# Starting is idempotent: a service that already answers is reused. State and logs: $STATE.
set -euo pipefail
. "$(dirname "$0")/env.sh"

log() { printf '[services] %s\n' "$*"; }
die() { printf '[services] ERROR: %s\n' "$*" >&2; exit 1; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_for() { # wait_for NAME SECONDS COMMAND...
  local name=$1 secs=$2; shift 2
  for _ in $(seq "$secs"); do "$@" && return 0; sleep 1; done
  die "$name did not come up within ${secs}s; see its log under $STATE"
}
pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# PG_HOST, PG_PORT, PG_LOGIN, PG_PASSWORD, PG_SCHEMA (the database), REDIS_PORT, NEO4J_PORT, CHROMA_PORT…:
# one Python reads the connection variables by name, so no URI or password is on a command line
parts="$(python3 -m axiom.connections parts PG=axiom_postgres REDIS=axiom_redis NEO4J=axiom_neo4j CHROMA=axiom_chroma)" \
  || die "cannot read the connection variables (.env, .env.local)"
eval "$parts"

# pg_dir: the cluster's folder, $STATE/postgres; but when root runs this and the postgres user cannot
# reach the state folder (a clone in a private folder, such as one `mktemp -d` made), a folder of the
# postgres user's own named after the state folder, so the clone's permissions stay as they are
pg_dir() {
  mkdir -p "$STATE"
  if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$STATE" 2>/dev/null; then
    echo "$(getent passwd postgres | cut -d: -f6)/axiom-$(printf '%s' "$STATE" | sha256sum | cut -c1-12)"
  else
    echo "$STATE/postgres"
  fi
}

start_postgres() {
  local dir bin
  dir="$(pg_dir)"
  bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
  if port_open "$PG_PORT"; then
    log "postgres: reusing the server on 127.0.0.1:$PG_PORT"
  else
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    as_postgres test -w "$dir" || die "the postgres user cannot write $dir (its parent folders must be traversable)"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      log "postgres: initialising a cluster in $dir/data"
      local pw; pw="$(mktemp)"; printf '%s\n' "$PG_PASSWORD" > "$pw"  # mode 600: read by initdb alone
      [ "$(id -u)" = 0 ] && chown postgres: "$pw"
      as_postgres "$bin/initdb" -D "$dir/data" -U "$PG_LOGIN" --pwfile="$pw" -A scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
      rm -f "$pw"
    fi
    log "postgres: starting on 127.0.0.1:$PG_PORT"
    as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -c unix_socket_directories='' -c max_wal_size=2GB -c shared_buffers=256MB" start >/dev/null
  fi
  local db airflow_db="${AIRFLOW__DATABASE__SQL_ALCHEMY_CONN##*/}"
  airflow_db="${airflow_db%%\?*}"
  for db in "$PG_SCHEMA" "${PG_SCHEMA}_test" "${airflow_db%_test}" "${airflow_db%_test}_test"; do
    if [ -z "$(PGPASSWORD="$PG_PASSWORD" psql -h 127.0.0.1 -p "$PG_PORT" -U "$PG_LOGIN" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")" ]; then
      log "postgres: creating database $db"
      PGPASSWORD="$PG_PASSWORD" psql -q -h 127.0.0.1 -p "$PG_PORT" -U "$PG_LOGIN" -d postgres -c "CREATE DATABASE \"$db\""
    fi
  done
}

# start_redis DIR PORT: with the append-only file on (fsync every second), so a server that dies keeps what
# it acknowledged. A folder from before the AOF (an RDB and no AOF manifest, also when the first writing of
# the AOF was cut short) is loaded from the RDB, then the AOF is written from it: a server started with
# the AOF on and no manifest would start empty.
start_redis() {
  local dir=$1 port=$2 aof=yes
  if port_open "$port"; then
    log "redis: reusing the server on 127.0.0.1:$port"
    if pid_alive "$dir/redis.pid"; then redis_aof_on "$port"; fi  # one of ours, perhaps started before the AOF
    return
  fi
  mkdir -p "$dir"
  if [ -f "$dir/dump.rdb" ] && [ ! -f "$dir/appendonlydir/appendonly.aof.manifest" ]; then aof=no; fi
  log "redis: starting on 127.0.0.1:$port"
  redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --daemonize yes \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --save "60 1000" --protected-mode yes \
    --appendonly "$aof" --appendfsync everysec
  wait_for redis 60 redis_ready "$port"  # up, and done loading its data
  redis_aof_on "$port"
}

redis_aof_on() { # redis_aof_on PORT: turn the append-only file on in a running server and wait until it is written
  [ "$(redis-cli -p "$1" CONFIG GET appendonly | tail -n 1)" = yes ] && return
  log "redis: writing the append-only file from the data held"
  redis-cli -p "$1" CONFIG SET appendfsync everysec >/dev/null
  redis-cli -p "$1" CONFIG SET appendonly yes >/dev/null
  wait_for "redis's append-only file" 120 redis_aof_written "$1"
}
redis_ready() { [ "$(redis-cli -p "$1" PING 2>/dev/null)" = PONG ]; }
redis_aof_written() {
  local info; info="$(redis-cli -p "$1" INFO persistence)"
  grep -q '^aof_enabled:1' <<<"$info" && ! grep -qE '^aof_rewrite_(in_progress|scheduled):1' <<<"$info"
}

start_neo4j() { # start_neo4j HOME PORT DATABASE: a Neo4j server whose one database is named DATABASE
  local home=$1 port=$2 database=$3 lib="$STATE/neo4j/lib"
  if port_open "$port"; then log "neo4j: reusing the server on 127.0.0.1:$port"; return; fi
  [ -d "$lib" ] || die "Neo4j jars missing in $lib: run scripts/setup.sh"
  mkdir -p "$home/conf" "$home/data" "$home/logs" "$home/plugins"
  NEO4J_BOLT_PORT="$port" NEO4J_DATABASE="$database" envsubst '${NEO4J_BOLT_PORT} ${NEO4J_DATABASE}' \
    < "$ROOT/services/neo4j/neo4j.conf" > "$home/conf/neo4j.conf"
  local opens=(--add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED
               --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/java.lang=ALL-UNNAMED)
  local first=false
  [ ! -f "$home/data/dbms/auth.ini" ] && [ ! -d "$home/data/databases" ] && first=true
  log "neo4j: starting on 127.0.0.1:$port (database $database)"
  nohup java -Xms256m -Xmx1g -XX:+UseG1GC "${opens[@]}" -cp "$lib/*" \
    org.neo4j.server.CommunityEntryPoint --home-dir="$home" --config-dir="$home/conf" --console-mode \
    > "$home/logs/console.log" 2>&1 &
  echo $! > "$home/neo4j.pid"
  wait_for neo4j 120 port_open "$port"
  if $first; then  # over Bolt, read from AIRFLOW_CONN_AXIOM_NEO4J: the password is on no command line and in no file
    log "neo4j: setting the initial password"
    wait_for "neo4j's first login" 60 "$VENV/bin/python" -m axiom.connections neo4j-first-password "$port"
  fi
}

start_chroma() { # start_chroma DIR PORT
  local dir=$1 port=$2
  if port_open "$port"; then log "chroma: reusing the server on 127.0.0.1:$port"; return; fi
  mkdir -p "$dir"
  log "chroma: starting on 127.0.0.1:$port"
  nohup "$VENV/bin/chroma" run --path "$dir/data" --host 127.0.0.1 --port "$port" > "$dir/chroma.log" 2>&1 &
  echo $! > "$dir/chroma.pid"
  wait_for chroma 60 curl -sf "http://127.0.0.1:$port/api/v2/heartbeat" -o /dev/null
}

migrate_airflow() {
  log "airflow: migrating the metadata database"
  airflow db migrate >"$STATE/airflow/migrate.log" 2>&1 || { tail -n 20 "$STATE/airflow/migrate.log"; die "airflow db migrate failed"; }
}

# the Airflow components' PID files and logs: $STATE/airflow/run for the user's Airflow, $STATE/airflow/test-run
# for the one `make replay` starts on the tests' stores (use_test_stores sets AXIOM_AIRFLOW_RUN)
start_airflow() {
  local part
  RUN_DIR="${AXIOM_AIRFLOW_RUN:-$STATE/airflow/run}"
  mkdir -p "$RUN_DIR"
  for part in api-server scheduler dag-processor triggerer; do
    if pid_alive "$RUN_DIR/$part.pid"; then log "airflow $part: already running"; continue; fi
    [ "$part" = api-server ] && port_open "${AIRFLOW__API__PORT:-8080}" && die "port ${AIRFLOW__API__PORT:-8080} is taken by another process"
    log "airflow $part: starting"
    nohup airflow "$part" > "$RUN_DIR/$part.log" 2>&1 &
    echo $! > "$RUN_DIR/$part.pid"
  done
  [ "$AIRFLOW__CORE__EXECUTOR" = CeleryExecutor ] && start_celery_workers
  wait_for "airflow api-server" 120 curl -sf "http://127.0.0.1:${AIRFLOW__API__PORT:-8080}/api/v2/monitor/health" -o /dev/null
  log "airflow: UI on http://127.0.0.1:${AIRFLOW__API__PORT:-8080}"
}

# Celery workers on this machine. Each task instance records the host as HOST:workerN (AXIOM_WORKER_NAME,
# read by axiom_airflow.worker.hostname). They share this machine's log folder with the api-server, so
# they serve no logs of their own (which would need a port each).
CELERY_WORKERS=(worker1 worker2)
start_celery_workers() {
  local name
  for name in "${CELERY_WORKERS[@]}"; do
    if pid_alive "$RUN_DIR/celery-$name.pid"; then log "airflow celery $name: already running"; continue; fi
    log "airflow celery $name: starting (concurrency ${AIRFLOW__CELERY__WORKER_CONCURRENCY:-16}, broker Redis db 1)"
    AXIOM_WORKER_NAME="$name" nohup airflow celery worker --celery-hostname "$name@%h" --skip-serve-logs \
      > "$RUN_DIR/celery-$name.log" 2>&1 &
    echo $! > "$RUN_DIR/celery-$name.pid"
  done
}

stop_pidfile() { # stop_pidfile NAME FILE
  if pid_alive "$2"; then
    log "$1: stopping (pid $(cat "$2"))"
    kill "$(cat "$2")"
    for _ in $(seq 30); do pid_alive "$2" || break; sleep 1; done
    pid_alive "$2" && kill -9 "$(cat "$2")"
  fi
  rm -f "$2"
}

stop_airflow() { # stop_airflow [RUN_DIR]
  local part dir=${1:-${AXIOM_AIRFLOW_RUN:-$STATE/airflow/run}}
  for part in triggerer dag-processor scheduler; do stop_pidfile "airflow $part" "$dir/$part.pid"; done
  # whatever the executor is now, workers started under AXIOM_EXECUTOR=celery stop too, before the
  # api-server: their warm shutdown lets running tasks finish and report through it
  for part in "${CELERY_WORKERS[@]}"; do stop_pidfile "airflow celery $part" "$dir/celery-$part.pid"; done
  stop_pidfile "airflow api-server" "$dir/api-server.pid"
}

stop_all() {
  local bin
  stop_airflow "$STATE/airflow/run"
  stop_airflow "$STATE/airflow/test-run"
  stop_pidfile chroma "$STATE/chroma/chroma.pid"
  stop_pidfile "chroma (tests)" "$STATE/chroma-test/chroma.pid"
  stop_pidfile neo4j "$STATE/neo4j/neo4j.pid"
  stop_pidfile "neo4j (tests)" "$STATE/neo4j-test/neo4j.pid"
  stop_pidfile redis "$STATE/redis/redis.pid"
  stop_pidfile "redis (tests)" "$STATE/redis-test/redis.pid"
  if [ -f "$(pg_dir)/data/postmaster.pid" ]; then
    bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
    log "postgres: stopping"
    as_postgres "$bin/pg_ctl" -D "$(pg_dir)/data" -m fast -w stop >/dev/null || true
  fi
}

status() {
  local name port
  for name in postgres:$PG_PORT redis:$REDIS_PORT neo4j:$NEO4J_PORT chroma:$CHROMA_PORT airflow-api:${AIRFLOW__API__PORT:-8080}; do
    port=${name#*:}
    if port_open "$port"; then echo "${name%%:*}: up on 127.0.0.1:$port"; else echo "${name%%:*}: down"; fi
  done
  for name in "${CELERY_WORKERS[@]}"; do
    if pid_alive "$STATE/airflow/run/celery-$name.pid"; then echo "airflow-celery-$name: running (pid $(cat "$STATE/airflow/run/celery-$name.pid"))"; fi
  done
}

case "${1:-}" in
  start) start_postgres; start_redis "$STATE/redis" "$REDIS_PORT"; start_neo4j "$STATE/neo4j" "$NEO4J_PORT" neo4j
         start_chroma "$STATE/chroma" "$CHROMA_PORT"; migrate_airflow ;;
  start-test) start_redis "$STATE/redis-test" "$((REDIS_PORT + 1))"; start_neo4j "$STATE/neo4j-test" "$((NEO4J_PORT + 1))" axiomtest
              start_chroma "$STATE/chroma-test" "$((CHROMA_PORT + 1))" ;;
  start-airflow) start_airflow ;;
  start-airflow-test) use_test_stores; export AIRFLOW__CORE__EXECUTOR=LocalExecutor; start_airflow ;;
  stop-airflow) stop_airflow ;;
  stop) stop_all ;;
  status) status ;;
  *) echo "usage: $0 start|start-test|start-airflow|start-airflow-test|stop-airflow|stop|status" >&2; exit 2 ;;
esac
