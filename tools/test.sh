#!/usr/bin/env bash
# Every test on both runtimes: the README's test command, and what CI runs.
# Sets up .venv on first use. Extra arguments go to tools/run_tests.py (e.g. -k NAME).
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/_venv.sh
exec "$VENV/bin/python" tools/run_tests.py "$@"
