#!/usr/bin/env bash
# `make bench`: the benchmarks, on the tests' own stores (they truncate and reload what they measure),
# the text embedder beside sentence-transformers on torch (AXIOM_TORCH_PYTHON: a Python that has it),
# a burst of requests at a real api-server on what the others left (api.py),
# then the scale benchmark at 20, 125, 250 and 500 synthetic symbols (it empties those stores first).
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$ROOT"

use_test_stores
"$ROOT/scripts/services.sh" start-test
# scripts/bench.sh NAME [ARGS...] runs one benchmark; without arguments, all of them
if [ $# -gt 0 ]; then exec python "benchmarks/$1.py" "${@:2}"; fi
for bench in ingest analytics insights embedding api; do python "benchmarks/$bench.py"; done
python benchmarks/scale.py --wipe --sizes 20,125,250,500
