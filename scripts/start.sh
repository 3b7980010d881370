#!/usr/bin/env bash
# Install the sandbox into .venv and start it with the default fixtures (flags pass through).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -c constraints.txt -e .
exec .venv/bin/enkash-sandbox "$@"
