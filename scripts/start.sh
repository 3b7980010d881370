#!/usr/bin/env bash
# Install the sandbox into .venv (only when its requirements changed) and start it with the default
# fixtures; flags pass through. Afterwards `enkash-sandbox` is .venv/bin/enkash-sandbox.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh ""
exec .venv/bin/enkash-sandbox "$@"
