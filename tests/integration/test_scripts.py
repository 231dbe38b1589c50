"""scripts/results.sh on a tiny grid, in a copy of the repository's scripts so that results/
is never touched. The python results.sh is given starts each command warm (the `warm_env`
fixture, tests/helpers/warm_python.py): a process of its own each, without the seconds of
imports."""

import csv
import json
import shutil
import stat
import subprocess

import pytest

from tests.helpers.runs import REPO
from tests.helpers.warm_python import python_command

# Stands in for `python`: every wdbench sweep of results.sh runs as written plus overrides
# that make it tiny (the lecture's grid: 2 lambdas, 1 seed, 2 folds, 2 Optuna trials).
TINY_PYTHON = """#!/usr/bin/env bash
if [ "$1 $2" = "-m wdbench" ]; then
  case "$*" in
    *lambda_search*) set -- "$@" hydra.sweeper.n_trials=2 ;;
    *lambda_kfold*) set -- "$@" regularizer.strength=0,3 data.fold=0,1 ;;
    *) set -- "$@" regularizer.strength=0,3 seed=0 ;;
  esac
  set -- "$@" trainer.max_epochs=5 threads=1 metrics.figure=false
fi
exec {python} "$@"
"""


def test_results_script_stage(tmp_path, warm_env):
    """`bash scripts/results.sh 1` end to end: three sweeps (grid, k-fold, Optuna through the
    parallel launcher) and their three reports, written where the script says."""
    shutil.copytree(REPO / "scripts", tmp_path / "scripts")
    python = tmp_path / "tiny-python"
    python.write_text(TINY_PYTHON.replace("{python}", python_command()))
    python.chmod(python.stat().st_mode | stat.S_IEXEC)
    env = {**warm_env, "PYTHON": str(python)}
    result = subprocess.run(["bash", str(tmp_path / "scripts" / "results.sh"), "1"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900,
                            check=False)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert "some runs" not in result.stdout and "[results] report 1:" in result.stdout
    runs = tmp_path / "runs" / "results" / "1_lecture"
    counts = {sweep: len(list((runs / sweep).glob("*/summary.json")))
              for sweep in ("grid", "kfold", "optuna")}
    assert counts == {"grid": 2, "kfold": 4, "optuna": 2}
    for report in ("1_lecture", "1_lecture/kfold", "1_lecture/optuna"):
        out = tmp_path / "results" / report
        assert (out / "report.md").is_file() and (out / "vs_lambda.png").is_file(), report
        with open(out / "runs.csv") as f:
            rows = list(csv.DictReader(f))
        assert rows and all(row["status"] == "completed" for row in rows), report


@pytest.mark.slow
@pytest.mark.parametrize("stage", [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14])
def test_results_script_other_stages(tmp_path, needs_fashion_mnist, warm_env, stage):
    """`bash scripts/results.sh N` with tests/docs/shrink.py standing in for python: every sweep as
    the script writes it, shrunk to its first grid point, one epoch on 200 images."""
    shutil.copytree(REPO / "scripts", tmp_path / "scripts")
    python = f"{python_command()} {REPO / 'tests' / 'docs' / 'shrink.py'}"
    env = {**warm_env, "PYTHON": python,
           # reports 6, 7, 9, 10 and 14 compare grid points: two of each swept list
           "SHRINK_KEEP": "2" if stage in (6, 7, 9, 10, 14) else "1"}
    result = subprocess.run(["bash", str(tmp_path / "scripts" / "results.sh"), str(stage)],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900,
                            check=False)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert "some runs" not in result.stdout and f"[results] report {stage}:" in result.stdout
    reports = list((tmp_path / "results").rglob("report.md"))
    assert reports, result.stdout[-2000:]
    summaries = list((tmp_path / "runs" / "results").rglob("summary.json"))
    assert summaries and all(json.loads(p.read_text())["status"] == "completed"
                             for p in summaries)
