#!/usr/bin/env bash
# One-time setup: Debian's Fashion-MNIST package (where apt and root are available), a
# virtual environment in .venv, and wdbench installed into it in editable mode.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] \
   && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  echo "[setup] installing dataset-fashion-mnist with apt"
  apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
echo "[setup] installing wdbench and its dependencies into .venv"
.venv/bin/python -m pip install -q -e '.[dev,sweep]'
.venv/bin/python -c "import torch, torchvision, pytorch_lightning, hydra; print('[setup] torch', torch.__version__, '| lightning', pytorch_lightning.__version__, '| hydra', hydra.__version__)"
