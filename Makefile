# Axiom: the two commands are `make run` and `make test`; each installs and starts what it needs.
SHELL := /bin/bash
.DEFAULT_GOAL := help
ENV := scripts/env.sh
# when this make began: make run and make test print their whole time, install and start included
export AXIOM_MAKE_STARTED := $(shell date +%s)
# make run EXECUTOR=celery: tasks on two Celery workers instead of the scheduler (AXIOM_EXECUTOR in
# scripts/env.sh); the tests pick the executor of each test themselves
ifdef EXECUTOR
run: export AXIOM_EXECUTOR := $(EXECUTOR)
endif

.PHONY: help setup start stop run test unit status bench lint replay

help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/\t/' | expand -t 10

setup:  ## install Debian packages, the virtualenv and the Neo4j jars (skips what is done)
	@scripts/setup.sh

start: setup  ## start PostgreSQL, Redis, Neo4j and ChromaDB; migrate the schemas
	@scripts/services.sh start
	@$(ENV) python -m axiom migrate >/dev/null

stop:  ## stop every service these scripts started
	@scripts/services.sh stop

run: start  ## start Airflow (EXECUTOR=celery: and two Celery workers), run every pipeline on the bundled real data, print a summary per store
	@scripts/run.sh

test: start  ## run the test suite against the real services, on stores of its own
	@scripts/test.sh $(PYTEST_ARGS)

unit: setup  ## the unit and DAG integrity tests only: no service needed, done in seconds
	@$(ENV) python -m pytest tests/unit tests/dags $(PYTEST_ARGS)

replay: start  ## Axiom live: replay real sessions (REPLAY_FROM..REPLAY_TO, one per REPLAY_EVERY) through an Airflow on the tests' stores; FRESH=1 starts over
	@scripts/replay.sh

status:  ## counts per store and the drift summary (python -m axiom doctor has the details) as one JSON object
	@$(ENV) python -m axiom status

bench: start  ## benchmarks on the tests' stores: offline load, correlations, answers, the text embedder; then every pipeline at 20-500 synthetic symbols
	@scripts/bench.sh

lint:  ## ruff, including Airflow 3 rules
	@$(ENV) ruff check . && $(ENV) ruff format --check .
