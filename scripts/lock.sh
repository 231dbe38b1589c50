#!/usr/bin/env bash
# Refresh requirements/lock.txt: exact versions for Python 3.11 on x86-64 Linux, resolved by
# `uv pip compile` from pyproject.toml's dependencies and its dev and sweep extras, with torch
# and torchvision held at requirements/pins.txt. uv lives in a throwaway virtual environment,
# never in .venv; pip installs from the lock (scripts/setup.sh).
# Extra package indexes (a local mirror): LOCK_INDEX="URL ..." adds them to PyPI; by default
# the ones pip is configured with (`pip config list`: global.extra-index-url).
# LOCK_OUT=FILE writes elsewhere.
# uv keeps the versions of the file it overwrites wherever pyproject still allows them, so a
# re-lock changes only what a pyproject change requires; releases made since do not enter.
# LOCK_UPGRADE=1 ignores the old file and takes the newest releases allowed.
set -euo pipefail
cd "$(dirname "$0")/.."

tool_dir=$(mktemp -d)
trap 'rm -rf "$tool_dir"' EXIT
python3 -m venv "$tool_dir/venv"
"$tool_dir/venv/bin/python" -m pip install -q uv
extra=()
pip_setting() { python3 -m pip config list 2>/dev/null | sed -n "s/^global\.$1='\(.*\)'\$/\1/p"; }
configured=$(pip_setting extra-index-url)
# uv trusts its own root certificates: hand it pip's CA bundle where pip is configured with one
cert=$(pip_setting cert)
if [ -z "${SSL_CERT_FILE:-}" ] && [ -n "$cert" ]; then export SSL_CERT_FILE="$cert"; fi
for url in ${LOCK_INDEX:-$configured}; do extra+=(--extra-index-url "$url"); done
if [ "${LOCK_UPGRADE:-0}" = 1 ]; then extra+=(--upgrade); fi
"$tool_dir/venv/bin/uv" pip compile pyproject.toml --extra dev --extra sweep \
  --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
  --constraint requirements/pins.txt "${extra[@]}" --index-strategy unsafe-best-match \
  --custom-compile-command "bash scripts/lock.sh" --quiet -o "${LOCK_OUT:-requirements/lock.txt}"
echo "[lock] wrote ${LOCK_OUT:-requirements/lock.txt}: $(grep -c '^[a-zA-Z]' \
  "${LOCK_OUT:-requirements/lock.txt}") packages"
