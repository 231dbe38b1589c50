"""The lecture's result explained: the part of w orthogonal to the span of the training inputs
gets no data gradient, so under plain SGD with L2 it is (1 - lr*lambda)^t times its initial
value after t steps, whatever lr and lambda are. Plots ||w_null(t)|| / ||w_null(0)|| against
that prediction for every epoch of every run of a sweep: one line.

Cautious decay (regularizer=cautious) decays coordinate i only where the update and the weight
share a sign. The update (a data gradient, or a momentum buffer of them) lies in the span; the
sign of w_i is set by its null part, which the data never sees: a fair coin per coordinate and
step. Then E||w_null'||^2 = (1 - lr*lambda + c (lr*lambda)^2) ||w_null||^2 with
c = (1 + d_null/d) / 4, to first order half the plain rate: (1 - lr*lambda/2)^t.

    python scripts/null_collapse.py runs/results/1_lecture/null_collapse --out results/1_lecture \
        --grid runs/results/1_lecture/grid

Writes null_collapse.md: per run, the largest relative deviation of the measured ratio from
(1 - lr*lambda)^t over the epochs where the factor is above the float32 floor.
With --grid, also writes span_null.md: per lambda (and kind, where the sweep has several) of
that sweep, the final ||w|| and its parts inside and orthogonal to the span of the training
inputs (mean over seeds), the predicted orthogonal part, and the test loss.
"""

import argparse
import csv
import json
import math
from pathlib import Path

import numpy as np
from omegaconf import OmegaConf

# Below this factor the null part is at float32's floor: rounding of each data gradient leaks
# about eps32 * lr * ||g|| into it per step, which no longer shrinks by (1 - lr*lambda).
FLOOR = 1e-5
# the figure's axis and title: the plain law alone, or with cautious decay's beside it
PREDICTIONS = {False: "(1 − lr·λ)^t",
               True: "(1 − lr·λ)^t, cautious (1 − lr·λ + c(lr·λ)²)^(t/2)"}
TITLES = {False: "decays by (1 − lr·λ) per step",
          True: "decays by (1 − lr·λ) per step, cautious by about half that"}


def step_factor(kind: str, rate: float, null_fraction: float) -> float:
    """What one plain-SGD step multiplies ||w_null|| by; rate = lr * lambda."""
    if kind == "cautious":  # the coin-flip mask of the module docstring
        return math.sqrt(1 - rate + (1 + null_fraction) / 4 * rate**2)
    return 1 - rate


def null_fraction(config) -> float:
    """d_null / d: the synthetic inputs (n < d rows in general position) span n directions."""
    inputs, rows = int(config.data.num_inputs), int(config.data.train_size)
    return max(inputs - rows, 0) / inputs


def run_points(run_dir: Path) -> tuple[str, np.ndarray, np.ndarray]:
    """(label, predicted ratio, measured ratio ||w_null(t)|| / ||w_null(0)||) per epoch."""
    summary = json.loads((run_dir / "summary.json").read_text())
    config = OmegaConf.load(run_dir / ".hydra" / "config.yaml")
    lr, strength = float(config.optimizer.lr), float(config.regularizer.strength)
    kind = run_kind(run_dir)
    steps_per_epoch = summary["steps"] / summary["epochs"]
    with open(run_dir / "history.csv") as f:
        rows = list(csv.DictReader(f))
    epochs = np.array([float(r["epoch"]) for r in rows])
    null = np.array([float(r["weights/l2_null"]) for r in rows])
    factor = step_factor(kind, lr * strength, null_fraction(config))
    predicted = factor ** (epochs * steps_per_epoch)
    label = f"lr {lr:g}, λ {strength:g}" + (f", {kind}" if kind == "cautious" else "")
    return label, predicted, null / null[0]


def run_kind(run_dir: Path) -> str:
    choices = OmegaConf.load(run_dir / ".hydra" / "hydra.yaml").hydra.runtime.choices
    return str(choices.get("regularizer"))


def span_null_table(grid: Path) -> str:
    """Mean over seeds per (kind, lambda); a kind column only where the sweep has several."""
    rows: dict[tuple[str, float], list[dict]] = {}
    for path in grid.glob("*/summary.json"):
        summary = json.loads(path.read_text())
        if summary["status"] == "completed":
            config = OmegaConf.load(path.parent / ".hydra" / "config.yaml")
            _, predicted, measured = run_points(path.parent)
            summary["predicted_null"] = summary["weight_l2_null"] * predicted[-1] / measured[-1]
            key = (run_kind(path.parent), float(config.regularizer.strength))
            rows.setdefault(key, []).append(summary)
    kinds = len({kind for kind, _ in rows}) > 1
    lines = ["| " + ("kind | " if kinds else "") + "λ | runs | ‖w‖ | ‖w in span‖ | "
             "‖w orthogonal‖ | predicted | train loss | test loss |",
             "|---" * (8 + kinds) + "|"]
    for (kind, strength), runs in sorted(rows.items()):
        mean = {k: float(np.mean([r[k] for r in runs]))
                for k in ("weight_l2", "weight_l2_span", "weight_l2_null", "predicted_null",
                          "train_loss", "test_loss")}
        lines.append("| " + (f"{kind} | " if kinds else "") + f"{strength:g} | {len(runs)} | "
                     f"{mean['weight_l2']:.4g} | {mean['weight_l2_span']:.4g} | "
                     f"{mean['weight_l2_null']:.4g} | {mean['predicted_null']:.4g} | "
                     f"{mean['train_loss']:.3g} | {mean['test_loss']:.4g} |")
    return "\n".join(lines) + "\n"


def deviation_table(deviations: list[tuple[str, float]]) -> str:
    intro = (f"Largest relative deviation of ‖w_null(t)‖ / ‖w_null(0)‖ from its prediction "
             f"((1 − lr·λ)^t; cautious: the coin-flip law), over the epochs where the "
             f"prediction is ≥ {FLOOR:g}.")
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
    deviations, labelled = [], set()
    run_dirs = [path.parent for path in sorted(args.sweep.glob("*/summary.json"))
                if json.loads(path.read_text())["status"] == "completed"]
    cautious = any(run_kind(run_dir) == "cautious" for run_dir in run_dirs)
    for run_dir in run_dirs:
        label, predicted, measured = run_points(run_dir)
        if cautious:  # a grid of kinds: one colour and one legend entry per kind
            label = run_kind(run_dir)
        above = predicted >= FLOOR
        axes.plot(predicted[above], measured[above], "o", markersize=3,
                  color=("C1" if label == "cautious" else "C0") if cautious else None,
                  label=None if label in labelled else label)
        labelled.add(label)
        deviations.append((label, float(np.max(np.abs(measured[above] / predicted[above] - 1)))))
    lowest = axes.get_xlim()[0]
    axes.plot([lowest, 1], [lowest, 1], color="black", linewidth=0.8, label="y = x")
    axes.set(xscale="log", yscale="log", xlabel=f"{PREDICTIONS[cautious]}   (t = SGD steps)",
             ylabel="‖w_null(t)‖ / ‖w_null(0)‖",
             title="the weight orthogonal to the data's span\n" + TITLES[cautious])
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
    print(f"{len(deviations)} runs; largest relative deviation from the prediction over all "
          f"epochs where it is >= {FLOOR:g}: {worst:.2g}")


if __name__ == "__main__":
    main()
