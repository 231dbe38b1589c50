"""Weight decay erases the initialisation (Liu et al. 2023, Omnigrok; Lyu et al. 2024), through
`python -m wdbench` and scripts/null_eraser.py (results/13_null_space_eraser is this at full
size). On the lecture's task the part of w orthogonal to the 20 training inputs shrinks by
(1 - eta lambda) per step, so after the training loss is about 0 the test loss keeps falling
until about t_pred = ln(||w_null(0)|| / eps) / (eta lambda) steps, eps = sqrt(2 delta) the null
norm whose own test-loss cost ||w_null||^2 / 2 is delta = 0.01 (the script's definitions).

Tolerances. The null norm itself crosses eps at t_pred to 1%: its law is exact
(tests/science/test_null_space_decay.py) and the history is logged once per epoch, every 4
steps of at least 1,100. The test loss crosses within 20% of t_pred: the prediction takes the
test inputs' covariance as the identity, but 100 test rows give ||w_null||^2 / 2 a factor
u^T S u about 1 +- 0.14 (chi-square with 100 degrees over 100) and a cross term with the true
weight's own null part; a factor f moves the crossing by ln(f) / 2 in t * eta * lambda, over
ln(||w_null(0)|| / eps) >= 3.3 here: f within [0.27, 3.7] stays inside 20%."""

import csv
import math
import subprocess
import sys

import pytest

from tests.helpers.runs import REPO, run_main

LAMBDA, EPOCHS = 1.0, 500  # eta * lambda = 0.003: t_pred is about 1,100 and 1,500 steps


@pytest.mark.slow
def test_test_loss_reaches_its_floor_when_the_null_part_is_erased(tmp_path):
    result = run_main(["-m", "+experiment=d2l_synthetic", f"regularizer.strength={LAMBDA}",
                       "model.init_std=0.3,1", "seed=0", f"trainer.max_epochs={EPOCHS}",
                       "metrics.figure=false", "threads=1", "hydra.sweep.dir=sweep"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    report = subprocess.run([sys.executable, str(REPO / "scripts" / "null_eraser.py"),
                             str(tmp_path / "sweep"), "--out", str(tmp_path / "out")],
                            capture_output=True, text=True, check=False)
    assert report.returncode == 0, report.stderr
    rows = list(csv.DictReader((tmp_path / "out" / "runs.csv").read_text().splitlines()))
    assert sorted(float(r["init_std"]) for r in rows) == [0.3, 1.0]
    for row in rows:
        t_pred = float(row["t_pred"])
        assert float(row["t_null"]) == pytest.approx(t_pred, rel=0.01)
        assert float(row["t_gen"]) == pytest.approx(t_pred, rel=0.2)
        assert float(row["t_fit"]) < t_pred / 3  # the training loss is ~0 long before
    larger = max(rows, key=lambda r: float(r["init_std"]))
    smaller = min(rows, key=lambda r: float(r["init_std"]))
    # the same seed draws the same direction: 10/3 times the init scale is ln(10/3) / (eta
    # lambda) = 400 steps later
    later = float(larger["t_gen"]) - float(smaller["t_gen"])
    expected = math.log(float(larger["null_start"]) / float(smaller["null_start"])) / (0.003 * LAMBDA)
    assert later == pytest.approx(expected, rel=0.2)
    assert (tmp_path / "out" / "eraser.png").stat().st_size > 10_000
