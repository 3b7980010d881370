#!/usr/bin/env bash
# Install the sandbox with its test extras into .venv (only when its requirements changed), lint,
# check the layers (import-linter: docs/architecture.md), then run every test suite; pytest
# arguments pass through.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh test
.venv/bin/ruff check .
.venv/bin/lint-imports --no-cache --no-logo >/tmp/lint-imports.$$ 2>&1 || { cat /tmp/lint-imports.$$; exit 1; }
rm -f /tmp/lint-imports.$$
.venv/bin/python -m pytest "$@"
