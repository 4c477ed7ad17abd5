#!/usr/bin/env bash
# Every test on both runtimes: the README's test command, and what CI runs.
# Sets up .venv and tools/wasm (the WebAssembly MicroPython: needs node and npm) on first
# use. Extra arguments go to tools/run_tests.py (e.g. -k NAME).
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/_venv.sh
stalloc_wasm  # the wasm32 stage
exec "$VENV/bin/python" tools/run_tests.py "$@"
