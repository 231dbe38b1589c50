"""The lecture's result explained: the part of w orthogonal to the span of the training inputs
gets no data gradient, so under plain SGD with L2 it is (1 - lr*lambda)^t times its initial
value after t steps, whatever lr and lambda are. Plots ||w_null(t)|| / ||w_null(0)|| against
(1 - lr*lambda)^t for every epoch of every run of a sweep: one line.

    python scripts/null_collapse.py runs/results/1_lecture/null_collapse --out results/1_lecture \
        --grid runs/results/1_lecture/grid

Writes null_collapse.md: per run, the largest relative deviation of the measured ratio from
(1 - lr*lambda)^t over the epochs where the factor is above the float32 floor.
With --grid, also writes span_null.md: per lambda of that sweep, the final ||w|| and its parts
inside and orthogonal to the span of the training inputs (mean over seeds), and the test loss.
"""

import argparse
import csv
import json
from pathlib import Path

import numpy as np
from omegaconf import OmegaConf

# Below this factor the null part is at float32's floor: rounding of each data gradient leaks
# about eps32 * lr * ||g|| into it per step, which no longer shrinks by (1 - lr*lambda).
FLOOR = 1e-5


def run_points(run_dir: Path) -> tuple[str, np.ndarray, np.ndarray]:
    """(label, predicted (1 - lr*lambda)^t, measured ratio) per epoch of one run."""
    summary = json.loads((run_dir / "summary.json").read_text())
    config = OmegaConf.load(run_dir / ".hydra" / "config.yaml")
    lr, strength = float(config.optimizer.lr), float(config.regularizer.strength)
    steps_per_epoch = summary["steps"] / summary["epochs"]
    with open(run_dir / "history.csv") as f:
        rows = list(csv.DictReader(f))
    epochs = np.array([float(r["epoch"]) for r in rows])
    null = np.array([float(r["weights/l2_null"]) for r in rows])
    predicted = (1 - lr * strength) ** (epochs * steps_per_epoch)
    return f"lr {lr:g}, λ {strength:g}", predicted, null / null[0]


def span_null_table(grid: Path) -> str:
    rows: dict[float, list[dict]] = {}
    for path in grid.glob("*/summary.json"):
        summary = json.loads(path.read_text())
        if summary["status"] == "completed":
            config = OmegaConf.load(path.parent / ".hydra" / "config.yaml")
            rows.setdefault(float(config.regularizer.strength), []).append(summary)
    lines = ["| λ | runs | ‖w‖ | ‖w in span‖ | ‖w orthogonal‖ | test loss |",
             "|---|---|---|---|---|---|"]
    for strength, runs in sorted(rows.items()):
        mean = {k: float(np.mean([r[k] for r in runs]))
                for k in ("weight_l2", "weight_l2_span", "weight_l2_null", "test_loss")}
        lines.append(f"| {strength:g} | {len(runs)} | {mean['weight_l2']:.4g} | "
                     f"{mean['weight_l2_span']:.4g} | {mean['weight_l2_null']:.4g} | "
                     f"{mean['test_loss']:.4g} |")
    return "\n".join(lines) + "\n"


def deviation_table(deviations: list[tuple[str, float]]) -> str:
    intro = (f"Largest relative deviation of ‖w_null(t)‖ / ‖w_null(0)‖ from (1 − lr·λ)^t, over "
             f"the epochs where (1 − lr·λ)^t ≥ {FLOOR:g}.")
    lines = [intro, "", "| run | largest relative deviation |", "|---|---|"]
    lines += [f"| {label} | {deviation:.2g} |" for label, deviation in deviations]
    lines.append(f"| all {len(deviations)} runs | {max(d for _, d in deviations):.2g} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("sweep", type=Path)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--grid", type=Path, help="a lambda sweep: also write span_null.md")
    args = p.parse_args()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    deviations = []
    for run_dir in sorted(p.parent for p in args.sweep.glob("*/summary.json")):
        label, predicted, measured = run_points(run_dir)
        above = predicted >= FLOOR
        axes.plot(predicted[above], measured[above], "o", markersize=3, label=label)
        deviations.append((label, float(np.max(np.abs(measured[above] / predicted[above] - 1)))))
    lowest = axes.get_xlim()[0]
    axes.plot([lowest, 1], [lowest, 1], color="black", linewidth=0.8, label="y = x")
    axes.set(xscale="log", yscale="log", xlabel="(1 − lr·λ)^t   (t = SGD steps so far)",
             ylabel="‖w_null(t)‖ / ‖w_null(0)‖",
             title="the weight orthogonal to the data's span\ndecays by (1 − lr·λ) per step")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=7, ncol=2)
    figure.tight_layout()
    args.out.mkdir(parents=True, exist_ok=True)
    figure.savefig(args.out / "null_collapse.png")
    (args.out / "null_collapse.md").write_text(deviation_table(deviations))
    if args.grid:
        table = span_null_table(args.grid)
        (args.out / "span_null.md").write_text(table)
        print(table)
    worst = max(deviation for _, deviation in deviations)
    print(f"{len(deviations)} runs; largest relative deviation from (1 - lr*lambda)^t over all "
          f"epochs where it is >= {FLOOR:g}: {worst:.2g}")


if __name__ == "__main__":
    main()
