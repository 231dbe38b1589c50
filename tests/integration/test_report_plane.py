"""Two-knob reports on small synthetic sweeps whose answer is known: run directories written
as a sweep writes them (.hydra/config.yaml, .hydra/hydra.yaml, summary.json), with losses
from a formula whose best cell, best λ per lr and slope are set by construction."""

import json
import math
import os

import numpy as np
import pandas as pd
import pytest
import yaml

from tests.helpers.runs import REPO, run_script
from wdbench.report.build import busy_seconds, make_report
from wdbench.report.heatmap import best_cell, is_log_spaced, panel
from wdbench.report.two_knobs import choose_y, slope

LRS = (1e-3, 1e-2, 1e-1)
LAMBDAS = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)
SEEDS = (0, 1, 2)
STACKS_END = 1_700_000_000  # summary times: a stack of len(LAMBDAS) runs ends every 100 s
# The best λ at each lr, per regulariser: coupled (λ* = 1e-5/lr, slope -1), separable
# (λ* = 1e-2 whatever the lr, slope 0), and one whose best lies above the grid.
BEST_LAMBDA = {"l2": lambda lr: 1e-5 / lr, "decoupled": lambda lr: 1e-2,
               "l1": lambda lr: 10.0}


def loss(kind: str, lr: float, strength: float, noise: float) -> float:
    """A bowl in log space: its lowest point at lr 1e-2 and λ = BEST_LAMBDA[kind](lr); seed
    noise far below the 0.1 step between neighbouring cells, so it moves no choice."""
    off = math.log10(strength) - math.log10(BEST_LAMBDA[kind](lr))
    return 0.3 + 0.1 * off**2 + 0.05 * (math.log10(lr) + 2) ** 2 + noise


def write_run(path, config: dict, choices: dict, summary: dict) -> None:
    (path / ".hydra").mkdir(parents=True)
    (path / ".hydra" / "config.yaml").write_text(yaml.safe_dump(config))
    hydra = {"hydra": {"runtime": {"choices": choices}}}
    (path / ".hydra" / "hydra.yaml").write_text(yaml.safe_dump(hydra))
    (path / "summary.json").write_text(json.dumps(summary))


@pytest.fixture(scope="module")
def plane_sweep(tmp_path_factory):
    root = tmp_path_factory.mktemp("plane")
    rng = np.random.default_rng(0)
    stack_ends: dict[tuple, int] = {}
    for kind in BEST_LAMBDA:
        for lr in LRS:
            for strength in LAMBDAS:
                for seed in SEEDS:
                    val = loss(kind, lr, strength, rng.normal(0, 0.003))
                    test = loss(kind, lr, strength, rng.normal(0, 0.003))
                    config = {"name": "plane", "seed": seed, "optimizer": {"lr": lr},
                              "regularizer": {"strength": strength}}
                    summary = {"status": "completed", "val_loss": val, "test_loss": test,
                               "test_acc": 1 - test, "val_acc": 1 - val, "wall_time": 1.0,
                               "stacked": {"members": len(LAMBDAS)}}
                    run_dir = root / kind / f"lr={lr},strength={strength},seed={seed}"
                    write_run(run_dir, config, {"regularizer": kind, "optimizer": "sgd"},
                              summary)
                    stack = (kind, lr, seed)  # the runs one stack trains: λ differs only
                    stack_end = STACKS_END + 100 * stack_ends.setdefault(stack, len(stack_ends))
                    os.utime(run_dir / "summary.json", (stack_end, stack_end))
    return root


def test_plane_report_finds_the_known_best_lambdas_and_slopes(plane_sweep, tmp_path):
    report = make_report([plane_sweep], tmp_path, select="val_loss",
                         plane=("optimizer.lr", "regularizer.strength"))
    choices = pd.read_csv(tmp_path / "plane.csv")
    for kind, best in BEST_LAMBDA.items():
        mine = choices[choices["variant"] == f"regularizer={kind}"]
        assert set(mine["seed"]) == {"mean", "0", "1", "2"}
        for _, row in mine.iterrows():
            expected = min(best(row["x"]), max(LAMBDAS))  # l1's best clips at the top edge
            assert math.isclose(row["y"], expected, rel_tol=1e-9)
            assert ("upper edge" in str(row["warning"])) == (kind == "l1")
    slopes = pd.read_csv(tmp_path / "slopes.csv").set_index("variant")
    assert math.isclose(slopes.loc["regularizer=l2", "slope"], -1.0, abs_tol=1e-9)
    assert math.isclose(slopes.loc["regularizer=decoupled", "slope"], 0.0, abs_tol=1e-9)
    assert math.isnan(slopes.loc["regularizer=l1", "slope"])  # every choice a bound: no fit
    assert slopes.loc["regularizer=l1", "points"] == 0
    # The fixed point's prediction beside the measurement (this synthetic l2 is built to -1).
    assert slopes.loc["regularizer=l2", "predicted"] == 0.0
    assert math.isnan(slopes.loc["regularizer=l1", "predicted"])
    text = (tmp_path / "report.md").read_text()
    assert "![heatmaps](heatmaps.png)" in text and (tmp_path / "heatmaps.png").stat().st_size
    assert "⚠ at the upper edge of the grid (1)" in text
    assert "| +0 (L2: the fixed point minimises L + λ‖w‖²/2 at every lr) |" in text
    assert report["figures"][0] == "heatmaps.png"


def test_wall_clock_time_counts_a_stack_once_and_whole(plane_sweep, tmp_path):
    """Each stacked member's wall_time is its share (1 s of a 5 s stack): the sweep's busy
    time is 5 s per stack, the stacks 100 s apart, never overlapping."""
    report = make_report([plane_sweep], tmp_path, select="val_loss")
    stacks = len(BEST_LAMBDA) * len(LRS) * len(SEEDS)
    assert math.isclose(busy_seconds(report["runs"]), len(LAMBDAS) * stacks, rel_tol=1e-9)


def test_heatmap_marks_the_known_best_cell(plane_sweep, tmp_path):
    report = make_report([plane_sweep], tmp_path, select="val_loss",
                         plane=("optimizer.lr", "regularizer.strength"))
    table = report["table"]
    cells = table[table["regularizer"] == "l2"].copy()
    cells["x"] = pd.to_numeric(cells["optimizer.lr"])
    x, y = best_cell(cells, "regularizer.strength", "test_loss")
    assert math.isclose(x, 1e-2) and math.isclose(y, 1e-3)
    assert best_cell(cells, "regularizer.strength", "val_loss") == (x, y)
    assert is_log_spaced(LRS) and not is_log_spaced([1, 2, 3])


def test_runner_up_difference_and_interval_from_the_seeds(plane_sweep, tmp_path):
    """The chosen configuration minus the runner-up, paired by seed, against the summaries."""
    report = make_report([plane_sweep], tmp_path, select="val_loss",
                         plane=("optimizer.lr", "regularizer.strength"))
    rows = report["runner_up"]["val_loss"]
    row = rows[(rows["regularizer"] == "l2") & (rows["optimizer.lr"] == "0.01")].iloc[0]
    runs = report["runs"]
    l2 = runs[(runs["regularizer"] == "l2") & (runs["optimizer.lr"] == "0.01")]
    by_strength = l2.groupby("regularizer.strength")
    means = by_strength["val_loss"].mean().sort_values()
    chosen, second = means.index[0], means.index[1]
    assert chosen == 1e-3 and row["runner-up"] == f"strength={second:g}"
    first = l2[l2["regularizer.strength"] == chosen].set_index("seed")["val_loss"]
    other = l2[l2["regularizer.strength"] == second].set_index("seed")["val_loss"]
    diff = (first - other).to_numpy()
    assert math.isclose(row["diff val_loss"], diff.mean(), rel_tol=1e-9)
    low, high = row["diff val_loss ci"]
    assert low < diff.mean() < high
    assert "chosen − runner-up: val loss [95% CI]" in (tmp_path / "report.md").read_text()


@pytest.fixture(scope="module")
def size_sweep(tmp_path_factory):
    """λ* = 64/N at lr 1e-3, batch 128: τ_epoch = B/(lr·λ*·N) = 2000 epochs at every N."""
    root = tmp_path_factory.mktemp("sizes")
    for size in (1000, 4000, 16000, None):
        n = size or 55_000
        for strength in (1e-4, 1e-3, 1e-2, 0.1, 1.0):
            for seed in SEEDS:
                value = 0.3 + 0.1 * (math.log10(strength) - math.log10(64 / n)) ** 2
                config = {"name": "sizes", "seed": seed, "optimizer": {"lr": 1e-3},
                          "regularizer": {"strength": strength},
                          "data": {"train_size": size, "batch_size": 128, "val_size": 5000},
                          "trainer": {"max_epochs": 20}}
                summary = {"status": "completed", "val_loss": value, "test_loss": value,
                           "wall_time": 1.0}
                write_run(root / f"size={size},strength={strength},seed={seed}", config,
                          {"data": "fashion_mnist", "regularizer": "decoupled"}, summary)
    return root


def test_data_size_report_reads_tau_in_epochs(size_sweep, tmp_path):
    """The grid's decades hold 64/N only roughly; λ* is the grid point nearest in log space,
    so the slope of log λ* against log N lies near -1 and τ_epoch within a factor
    sqrt(10) of 2000 either way."""
    made = run_script(REPO / "scripts" / "report.py",
                      [str(size_sweep), "--out", str(tmp_path), "--plane", "data.train_size",
                       "regularizer.strength", "--data-size"])
    assert made.returncode == 0, made.stderr
    choices = pd.read_csv(tmp_path / "plane.csv")
    mean = choices[choices["seed"] == "mean"].sort_values("x")
    assert list(mean["x"]) == [1000, 4000, 16000, 55000]  # null: 60,000 less validation
    grid = np.array([1e-4, 1e-3, 1e-2, 0.1, 1.0])
    for _, row in mean.iterrows():
        nearest = grid[np.argmin(abs(np.log10(grid) - math.log10(64 / row["x"])))]
        assert math.isclose(row["y"], nearest)
        tau_epoch = 128 / (1e-3 * row["y"] * row["x"])
        assert 2000 / math.sqrt(10) <= tau_epoch <= 2000 * math.sqrt(10)
    text = (tmp_path / "report.md").read_text()
    assert "Best τ in epochs per training-set size" in text
    slope = pd.read_csv(tmp_path / "slopes.csv")["slope"].iloc[0]
    assert -1.3 < slope < -0.7


def test_no_decay_is_a_choice_not_an_edge_and_has_its_own_row():
    """λ = 0 best at the smallest lr: chosen without an edge warning, left out of the slope
    (log 0), drawn as the first row of the heatmap with the markers on the right cells."""
    import matplotlib.pyplot as plt

    grid = (0.0, 1e-3, 1e-2, 1e-1)
    best = {1e-3: 0.0, 1e-2: 1e-3, 1e-1: 1e-2}  # λ* = lr / 10 wherever it is not 0
    rows = [{"x": lr, "optimizer.lr": lr, "regularizer.strength": lam,
             "val_loss": (0.5 if lam == best[lr] else 0.6) - (0.1 if lr == 1e-2 else 0),
             "test_loss": 0.7 if lam == best[lr] else 0.8}
            for lr in best for lam in grid]
    cells = pd.DataFrame(rows)
    choices = choose_y(cells, "x", "regularizer.strength", "val_loss")
    assert list(choices["y"]) == [0.0, 1e-3, 1e-2] and list(choices["warning"]) == [""] * 3
    fitted, _, points = slope(choices)
    assert points == 2 and math.isclose(fitted, 1.0)
    fig, ax = plt.subplots()
    panel(ax, cells, "optimizer.lr", "regularizer.strength", "test_loss", "val_loss")
    marks = [(line.get_xdata()[0], line.get_ydata()[0]) for line in ax.lines]
    # ★ best on test: the first of the three equal cells (lr 1e-3, λ = 0); ○ on val: lr 1e-2, λ 1e-3
    assert marks == [(0, 0), (1, 1)]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0", "0.001", "0.01", "0.1"]
    assert ax.get_ylabel().endswith("log-spaced")
    plt.close(fig)
