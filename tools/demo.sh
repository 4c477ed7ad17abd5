#!/usr/bin/env bash
# The README's first command: the same loop on a 64 KiB virtual board with bytearrays and
# with stalloc, side by side, plus pictures (tools/demo.py; options pass through, e.g.
# --out DIR, --iterations N). Sets up .venv (with the `micropython` command) on first use;
# needs no node (the demo runs on the unix port only).
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/_venv.sh
exec "$VENV/bin/python" tools/demo.py "$@"
