"""The normalisation experiment end to end, small: `python -m wdbench -m
+experiment=mlp_bn_equilibrium` over both norms and two λ, then scripts/plot_rotation.py on
the sweep (results/8_normalised is this at full size)."""

import csv
import math

import pytest

from tests.helpers.runs import REPO, run_main, run_script


@pytest.mark.slow
@pytest.mark.usefixtures("needs_fashion_mnist")
def test_mlp_bn_equilibrium_sweep_and_rotation_plot(tmp_path):
    result = run_main(["-m", "+experiment=mlp_bn_equilibrium", "model.norm=null,batch",
                       "regularizer.strength=0,0.01", "data.train_size=600", "model.hidden=[32,32]",
                       "trainer.max_epochs=2", "metrics.figure=false", "metrics.eval_rows=200",
                       "threads=1", "hydra.sweep.dir=sweep"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    plot = run_script(REPO / "scripts" / "plot_rotation.py",
                      [str(tmp_path / "sweep"), "--out", str(tmp_path / "out")])
    assert plot.returncode == 0, plot.stderr
    assert (tmp_path / "out" / "rotation.png").stat().st_size > 10_000
    rows = list(csv.DictReader((tmp_path / "out" / "rotation.csv").read_text().splitlines()))
    assert len(rows) == 2 * 2 * 3  # norms x λ x weight matrices
    assert {r["model.norm"] for r in rows} == {"null", "batch"}
    assert {r["seed"] for r in rows} == {"0"}
    for row in rows:
        predicted = math.sqrt(2 * 0.05 * float(row["lambda"]) / 1.9)
        assert float(row["angle_predicted"]) == pytest.approx(predicted, abs=1e-9)
        assert float(row["effective_lr"]) == pytest.approx(0.05 / float(row["weight_l2"]) ** 2,
                                                           rel=1e-4)
        assert 0 < float(row["angle"]) < 1
    assert "| batch | 0.01 | layers.3.weight |" in (tmp_path / "out" / "rotation.md").read_text()
