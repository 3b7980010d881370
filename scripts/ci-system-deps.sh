#!/usr/bin/env bash
# System packages the tests need: Chromium for the inspector's browser test, a JDK and Node for
# tests/test_clients.py, buildah, podman and debootstrap for the container test, curl for the CI
# recipes' wait loops (tests/test_recipes.py).
# Called by .ci/run (and, with sudo, by the GitHub container job). Idempotent and fast on a second
# run: nothing is fetched when the tools are already there.
set -euo pipefail
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

# --- Headless Chromium for tests/test_inspector_browser.py: Debian's package at /usr/bin/chromium, --
# driven by Playwright's Python package (never `playwright install`). First, as the block below exits
# early once the container tools are there.
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null; } ||
      echo "ci-system-deps: chromium could not be installed; the inspector's browser test will skip" >&2
  else
    echo "ci-system-deps: not root or no apt-get; the inspector's browser test will skip" >&2
  fi
fi
# --- end of the Chromium block ---------------------------------------------------------------------

# --- A JDK and Node for tests/test_clients.py: the JDK's HttpClient, Node's fetch and axios ----------
# `java Partner.java` needs a JDK 11+ (a JRE has no compiler), fetch needs Node 18+, and npm installs
# axios from examples/clients/package-lock.json (the test runs `npm ci` once). Only what is missing.
clients_missing=()
java_major=$(java -version 2>&1 | sed -n 's/.*version "\(1\.\)\{0,1\}\([0-9]*\).*/\2/p' || true)
if [ "${java_major:-0}" -lt 11 ] || ! command -v javac >/dev/null; then clients_missing+=(default-jdk-headless); fi
node_major=$(node --version 2>/dev/null | sed -n 's/^v\([0-9]*\)\..*/\1/p' || true)
if [ "${node_major:-0}" -lt 18 ]; then clients_missing+=(nodejs); fi
if ! command -v npm >/dev/null; then clients_missing+=(npm); fi
if [ "${#clients_missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${clients_missing[@]}" >/dev/null; } ||
      echo "ci-system-deps: ${clients_missing[*]} could not be installed; tests/test_clients.py skips those clients" >&2
  else
    echo "ci-system-deps: not root or no apt-get; ${clients_missing[*]} missing, tests/test_clients.py skips those clients" >&2
  fi
fi
# --- end of the clients block ----------------------------------------------------------------------

if command -v buildah >/dev/null && command -v podman >/dev/null && command -v debootstrap >/dev/null && command -v curl >/dev/null; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "ci-system-deps: not root or no apt-get; the container test will skip" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends buildah podman debootstrap curl >/dev/null
