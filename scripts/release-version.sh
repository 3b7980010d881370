#!/usr/bin/env bash
# Print the package version (sandbox/__init__.py __version__, the one place it is written; pyproject.toml
# reads it from there). With a tag (v1.2.3) fail unless the tag names that version: the release
# workflow runs this before it publishes anything.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(sed -n 's/^__version__ = "\([^"]*\)"$/\1/p' sandbox/__init__.py)
if [ -z "$version" ]; then
  echo "release-version: no __version__ = \"...\" line in sandbox/__init__.py" >&2
  exit 1
fi
if [ $# -gt 0 ] && [ "$1" != "v$version" ]; then
  echo "release-version: tag $1 does not match the package version $version (expected v$version)" >&2
  exit 1
fi
echo "$version"
