#!/usr/bin/env bash
# Install the sandbox with its test extras into .venv (only when its requirements changed), lint,
# then run every test suite; pytest arguments pass through.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh test
.venv/bin/ruff check .
.venv/bin/python -m pytest "$@"
