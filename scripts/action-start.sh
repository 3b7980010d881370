#!/usr/bin/env bash
# The steps of the GitHub Action in action.yml, one subcommand each:
#   start    install enkash-sandbox (once per job) into $RUNNER_TEMP/enkash-sandbox/venv, start it in
#            the background, wait until /__sandbox/health answers, write its base URL to
#            $GITHUB_OUTPUT (base-url) and $GITHUB_ENV (ENKASH_BASE_URL)
#   run      run $INPUT_RUN with bash, ENKASH_BASE_URL set
#   journal  save the request journal and the sandbox's log into $RUNNER_TEMP/enkash-sandbox/artifact
# Inputs come as INPUT_* variables (action.yml sets them). ENKASH_SANDBOX_VENV names a venv that
# already holds enkash-sandbox, to skip the install (the tests use their own).
set -euo pipefail

home="${RUNNER_TEMP:?RUNNER_TEMP is not set (this runs inside a GitHub Actions job)}/enkash-sandbox"
action_path="${GITHUB_ACTION_PATH:-$(cd "$(dirname "$0")/.." && pwd)}"
venv="${ENKASH_SANDBOX_VENV:-$home/venv}"
log="$home/sandbox.log"

fail() {
  echo "::error title=enkash-sandbox::$1"
  exit 1
}

install() {
  if [ -x "$venv/bin/enkash-sandbox" ]; then
    return
  fi
  echo "Installing enkash-sandbox from $action_path into $venv"
  "${INPUT_PYTHON:-python3}" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -c "$action_path/constraints.txt" "$action_path"
}

# Set $url once the sandbox's banner names it and health answers; fail when the process exits or
# the time runs out.
wait_ready() {
  local pid=$1 deadline=$((SECONDS + ${INPUT_WAIT_SECONDS:-60}))
  url=""
  while [ "$SECONDS" -lt "$deadline" ]; do
    if ! kill -0 "$pid" 2>/dev/null; then
      cat "$log"
      fail "enkash-sandbox exited before it was ready (its log is above)"
    fi
    if [ -z "$url" ]; then
      url=$(sed -n 's/^enkash-sandbox listening on \(http[^ ]*\).*/\1/p' "$log" | head -n 1)
    fi
    if [ -n "$url" ] && "$venv/bin/python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + "/__sandbox/health", timeout=2)' "$url" 2>/dev/null; then
      return
    fi
    sleep 0.2
  done
  cat "$log"
  fail "enkash-sandbox did not answer within ${INPUT_WAIT_SECONDS:-60} s (its log is above)"
}

start() {
  mkdir -p "$home"
  install
  local args=(--host 127.0.0.1 --port "${INPUT_PORT:-8080}" --seed "${INPUT_SEED:-0}")
  if [ -n "${INPUT_FIXTURES:-}" ]; then args+=(--fixtures "$INPUT_FIXTURES"); fi
  if [ -n "${INPUT_SCENARIO:-}" ]; then args+=(--scenario "$INPUT_SCENARIO"); fi
  if [ -n "${INPUT_ADMIN_TOKEN:-}" ]; then
    echo "::add-mask::$INPUT_ADMIN_TOKEN"
    (umask 077 && printf '%s' "$INPUT_ADMIN_TOKEN" > "$home/admin-token")
  fi
  # the log exists before the sandbox starts, so the wait loop can read it at once (the background
  # shell's redirection may not have created it yet)
  : > "$log"
  # the admin token goes by environment, not argv (which any process can read)
  SANDBOX_ADMIN_TOKEN="${INPUT_ADMIN_TOKEN:-}" nohup "$venv/bin/enkash-sandbox" "${args[@]}" > "$log" 2>&1 &
  local pid=$!
  echo "$pid" > "$home/pid"
  wait_ready "$pid"
  echo "$url" > "$home/base-url"
  echo "base-url=$url" >> "${GITHUB_OUTPUT:-/dev/null}"
  echo "ENKASH_BASE_URL=$url" >> "${GITHUB_ENV:-/dev/null}"
  echo "enkash-sandbox is up at $url (pid $pid, log $log)"
}

run() {
  ENKASH_BASE_URL="$(cat "$home/base-url")" bash -eo pipefail -c "${INPUT_RUN:?no command given}"
}

journal() {
  local out="$home/artifact"
  mkdir -p "$out"
  if [ -f "$log" ]; then cp "$log" "$out/sandbox.log"; fi
  if [ ! -f "$home/base-url" ]; then
    echo "enkash-sandbox never came up in this job: only its log is kept"
    return
  fi
  "$venv/bin/python" - "$(cat "$home/base-url")" "$out/journal.json" "$home/admin-token" <<'PY'
import json, pathlib, sys, urllib.request
url, target, token_file = sys.argv[1:]
token = pathlib.Path(token_file)
headers = {"Authorization": "Bearer " + token.read_text()} if token.exists() else {}
try:
    with urllib.request.urlopen(urllib.request.Request(url + "/__sandbox/journal", headers=headers), timeout=10) as reply:
        journal = json.load(reply)
except OSError as exc:
    print(f"enkash-sandbox: no journal ({exc})")
    sys.exit(0)
pathlib.Path(target).write_text(json.dumps(journal, indent=2))
print(f"enkash-sandbox: {journal['count']} recorded requests saved to {target}")
PY
}

case "${1:-}" in
  start | run | journal) "$1" ;;
  *) echo "usage: $0 start|run|journal" >&2; exit 2 ;;
esac
