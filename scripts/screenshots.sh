#!/usr/bin/env bash
# The pictures in README's "What you will see": a real 3-job λ sweep, a real `tensorboard` on
# it, and headless Chromium (Debian's `chromium`) capturing its Time Series and HParams pages.
#   bash scripts/screenshots.sh                   # mlp_l2, λ = 0, 1e-3, 1e-2 -> docs/*.png
#   SWEEP="regularizer=l2 regularizer.strength=0,0.1,3 trainer.max_epochs=5" OUT=/tmp/shots \
#     bash scripts/screenshots.sh                 # any sweep, anywhere
# WIDTH (default 1400, a laptop's browser window) and HEIGHT (1000) size the pages in pixels.
# PYTHON (default .venv/bin/python, else python3) runs wdbench and tensorboard.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
out="$(mkdir -p "${OUT:-$repo/docs}" && cd "${OUT:-$repo/docs}" && pwd)"
python="${PYTHON:-$repo/.venv/bin/python}"
[ -x "$python" ] || python=python3
read -r -a sweep <<< "${SWEEP:-+experiment=mlp_l2 regularizer.strength=0,1e-3,1e-2}"
command -v chromium >/dev/null || { echo "error: chromium not found: apt-get install chromium" >&2; exit 2; }

work="$(mktemp -d)"
tensorboard_pid=""
cleanup() { [ -n "$tensorboard_pid" ] && kill "$tensorboard_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

echo "[screenshots] sweep: python -m wdbench -m ${sweep[*]}"
(cd "$work" && "$python" -m wdbench -m "${sweep[@]}" threads="${THREADS:-1}" >"$work/sweep.log" 2>&1) \
  || { tail -5 "$work/sweep.log" >&2; exit 1; }
port=$("$python" -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
"$python" -m tensorboard.main --logdir "$work/runs" --port "$port" --host 127.0.0.1 \
  >"$work/tensorboard.log" 2>&1 &
tensorboard_pid=$!
# Serving once its runs list names every job of the sweep.
jobs=$(find "$work/runs" -name summary.json | wc -l)
for _ in $(seq 120); do
  runs=$("$python" -c "import json, urllib.request as u; print(len(json.load(u.urlopen(
'http://127.0.0.1:$port/data/runs'))))" 2>/dev/null || echo 0)
  [ "$runs" -ge "$jobs" ] && break
  sleep 1
done

shoot() {  # page name, URL query and fragment
  chromium --headless=new --no-sandbox --disable-gpu --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$work/chromium-$1" --window-size="${WIDTH:-1400},${HEIGHT:-1000}" --virtual-time-budget=20000 \
    --screenshot="$out/tensorboard_$1.png" "http://127.0.0.1:$port/$2" >/dev/null 2>&1
  echo "[screenshots] $out/tensorboard_$1.png"
}
# forceSVG: the charts are drawn on the page, inside the virtual time the capture waits for; by
# default a worker draws them, and some were still blank when captured.
shoot timeseries "?forceSVG=true#timeseries"
shoot hparams "#hparams"
