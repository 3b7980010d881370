#!/usr/bin/env bash
# System packages the tests need: Chromium for the inspector's browser test, buildah, podman and
# debootstrap for the container test, curl for the CI recipes' wait loops (tests/test_recipes.py).
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
