"""radius = inf is "no constraint" for norm_ball and max_norm, as lambda = 0 is "no decay": the
same weights as regularizer=none step for step, from the command line and in a stacked grid
beside finite radii, and in a report an unconstrained choice is no edge of the radius grid and
gets its own tick (∞) one decade right of the largest finite radius."""

import json
import math

import matplotlib.pyplot as plt
import pandas as pd
import pytest
import torch

from tests.helpers.runs import make_job, run_config, run_main
from tests.helpers.stepping import assert_same_trajectory, fit_steps, regularizer, tiny_mlp
from wdbench.report.plots import against_knob, log_axis
from wdbench.report.seeds import edge_warning
from wdbench.stacked.run import run_stack

TINY = ["data.train_size=40", "data.val_size=10", "data.test_size=20", "data.num_inputs=10",
        "data.batch_size=8", "trainer.max_epochs=3", "threads=1", "metrics.figure=false",
        "model=mlp", "model.hidden=[8]", "optimizer.lr=0.05"]


@pytest.mark.parametrize("kind", ["norm_ball", "max_norm"])
def test_an_infinite_radius_trains_as_no_regularizer(kind):
    model = tiny_mlp()
    sgd = lambda params: torch.optim.SGD(params, lr=0.05, momentum=0.9)
    free = fit_steps(model, regularizer(kind, "regularizer.radius=inf"), sgd)
    none = fit_steps(model, regularizer("none"), sgd)
    assert_same_trajectory(free, none, atol=0)  # w·1.0 is w: bit for bit
    bound = fit_steps(model, regularizer(kind, "regularizer.radius=0.05"), sgd)
    assert not torch.equal(bound[-1]["layers.0.weight"], none[-1]["layers.0.weight"])


def test_a_stack_of_finite_and_infinite_radii_equals_its_ordinary_runs(tmp_path):
    radii = ["0.3", "inf"]
    overrides = [[*TINY, "regularizer=norm_ball", f"regularizer.radius={r}"] for r in radii]
    ordinary = [run_config(tmp_path / f"ordinary{i}", o) for i, o in enumerate(overrides)]
    stacked = run_stack([make_job(tmp_path / f"stacked{i}", o) for i, o in enumerate(overrides)])
    free = run_config(tmp_path / "none", [*TINY, "regularizer=none"])
    for one, member in zip(ordinary, stacked):
        assert member["stacked"]["members"] == 2
        for metric in ("test_loss", "weight_l2"):
            assert member[metric] == pytest.approx(one[metric], rel=1e-5)
    assert stacked[1]["weight_l2"] == pytest.approx(free["weight_l2"], rel=1e-6)
    assert stacked[0]["weight_l2"] <= 0.3 * (1 + 1e-5)


def test_a_radius_sweep_with_inf_runs_from_the_command_line(tmp_path):
    result = run_main(["-m", *TINY, "regularizer=max_norm", "regularizer.radius=0.1,inf",
                       "hydra.sweep.dir=sweep"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    summaries = [json.loads(p.read_text()) for p in sorted(tmp_path.glob("sweep/*/summary.json"))]
    assert [s["status"] for s in summaries] == ["completed", "completed"]
    assert "inf" in result.stdout  # the sweep table names the unconstrained job


def test_an_unconstrained_choice_is_no_edge_and_has_its_tick(tmp_path):
    grid = [0.1, 1.0, math.inf]
    assert edge_warning(math.inf, grid) == ""
    assert "upper edge" in edge_warning(1.0, [0.1, 1.0])  # a finite largest radius still warns
    fig, ax = plt.subplots()
    log_axis(ax, grid)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1e-1", "1", "∞"]
    assert list(ax.get_xticks()) == pytest.approx([0.1, 1.0, 10.0])  # ∞ a decade right of 1
    plt.close(fig)
    table = pd.DataFrame({"regularizer.radius": grid, "test_loss": [0.5, 0.4, 0.6],
                          "gap_loss": [0.1, 0.2, 0.3], "weight_l2": [1.0, 2.0, 3.0],
                          "test_acc": [None] * 3})
    for metric in ("test_loss", "gap_loss", "weight_l2"):
        table[metric + "_std"] = 0.0
    against_knob(table, [], "regularizer.radius", tmp_path / "vs_lambda.png")
    assert (tmp_path / "vs_lambda.png").stat().st_size > 0
