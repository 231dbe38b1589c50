#!/usr/bin/env bash
# Everything a fresh clone needs, then (with arguments) a run:
#   bash scripts/setup.sh                      set up only
#   bash scripts/setup.sh +experiment=mlp_l2   set up, then .venv/bin/python -m wdbench ARGS
# Installs Debian's Fashion-MNIST package (where apt and root are available), a virtual
# environment in .venv with the exact versions of requirements/lock.txt, and wdbench in editable
# mode. A second call finds the stamp of the same lock and pyproject and skips the install.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] \
   && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  echo "[setup] installing dataset-fashion-mnist with apt"
  apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist
fi

stamp=.venv/.wdbench-installed
wanted=$(cat requirements/lock.txt pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  [ -x .venv/bin/python ] || python3 -m venv .venv
  echo "[setup] installing requirements/lock.txt and wdbench (editable) into .venv"
  .venv/bin/python -m pip install -q -r requirements/lock.txt
  # setuptools comes from the lock: no build environment fetched from an index
  .venv/bin/python -m pip install -q --no-deps --no-build-isolation -e .
  .venv/bin/python -c "import torch, pytorch_lightning, hydra; print('[setup] .venv ready: torch',
torch.__version__, '| lightning', pytorch_lightning.__version__, '| hydra', hydra.__version__)"
  echo "$wanted" > "$stamp"
else
  echo "[setup] .venv is up to date with requirements/lock.txt"
fi

if [ $# -gt 0 ]; then
  exec .venv/bin/python -m wdbench "$@"
fi
