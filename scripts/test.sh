#!/usr/bin/env bash
# Install the sandbox with its test extras into .venv, lint, then run every test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -c constraints.txt -e '.[test]'
.venv/bin/ruff check .
.venv/bin/python -m pytest "$@"
