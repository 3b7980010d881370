#!/usr/bin/env bash
# Make .venv hold the sandbox (editable) with the extras named in $1 ("" or "test"), installing only
# when pyproject.toml, constraints.txt, the extras or the interpreter changed since the last install:
# a second start needs no package index and takes no install time. Sourced by start.sh and test.sh.
set -euo pipefail
extras="${1:-}"
python="${PYTHON:-python3}"
# asked once: an interpreter start (0.2-0.5 s through a pyenv shim) is most of a start that installs nothing
interpreter=$("$python" -c 'import sys; print(sys.version)')
# the interpreter .venv runs on (-S: no site, a few ms); another one means .venv is made anew
made_by=$(.venv/bin/python -S -c 'import sys; print(sys.version)' 2>/dev/null || true)
stamp_of() {
  { cat pyproject.toml constraints.txt; echo "extras=$extras"; echo "$interpreter"; } | sha256sum | cut -d' ' -f1
}
want=$(stamp_of)
have=$(cat .venv/.installed 2>/dev/null || true)
# an install for "test" also serves a plain start: the test extras include everything start needs
if [ -z "$extras" ] && [ -f .venv/.installed-test ] && [ "$(cat .venv/.installed-test)" = "$(extras=test stamp_of)" ]; then
  have=$want
fi
if [ "$want" != "$have" ] || [ "$made_by" != "$interpreter" ]; then
  echo "Installing enkash-sandbox${extras:+ [$extras]} into .venv (once; later runs skip this)..." >&2
  if [ -e .venv ] && [ "$made_by" != "$interpreter" ]; then
    # venv over a venv of another interpreter keeps the old links and mixes two Pythons' libraries
    # (seen: one's _ssl loaded by the other); pip's cache makes the fresh install quick
    "$python" -m venv --clear .venv
  else
    "$python" -m venv .venv
  fi
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".${extras:+[$extras]}"
  echo "$want" > .venv/.installed
  if [ -n "$extras" ]; then echo "$want" > ".venv/.installed-$extras"; fi
fi
