#!/usr/bin/env python
"""Per-epoch rotation curves of a λ grid run with and without a normalisation layer: each
weight matrix's ||w||, effective lr (lr/||w||²) and angle per step against its equilibrium
prediction. Writes rotation.png (one matrix, by position: with and without the norm layers
its name differs; a row per model.norm; the first seed's runs where there are several),
rotation.csv and rotation.md (every matrix's last epoch, every seed).

    python scripts/plot_rotation.py runs/results/8_normalised --out results/8_normalised
"""

import argparse
import csv
import json
import shlex
import sys
from pathlib import Path

PANELS = (("weights/l2_layer/", "‖w‖₂", "log"),
          ("weights/effective_lr_layer/", "effective lr = lr/‖w‖²", "log"),
          ("weights/angular_update_layer/", "angle per step (rad); dashed: predicted", "log"))
PREDICTED = "weights/angular_update_predicted_layer/"


def load_runs(sweep: Path) -> list[dict]:
    runs = []
    for summary_path in sorted(sweep.glob("*/summary.json")):
        summary = json.loads(summary_path.read_text())
        overrides = dict(o.split("=", 1) for o in summary["overrides"] if "=" in o)
        with open(summary_path.parent / "history.csv", newline="") as f:
            history = [{k: float(v) for k, v in row.items() if v != ""}
                       for row in csv.DictReader(f)]
        runs.append({"norm": overrides.get("model.norm", "null"),
                     "strength": float(overrides.get("regularizer.strength", 0)),
                     "seed": summary["seed"],
                     "summary": summary, "history": history})
    return sorted(runs, key=lambda r: (r["norm"], r["strength"], r["seed"]))


def plot(runs: list[dict], position: int, path: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    first_seed = min(r["seed"] for r in runs)
    runs = [r for r in runs if r["seed"] == first_seed]  # one curve per λ
    norms = sorted({r["norm"] for r in runs})
    strengths = sorted({r["strength"] for r in runs})
    colours = {s: f"C{i}" for i, s in enumerate(strengths)}
    figure = Figure(figsize=(15, 4.2 * len(norms)), dpi=90)
    FigureCanvasAgg(figure)
    axes = figure.subplots(len(norms), len(PANELS), squeeze=False)
    for row, norm in zip(axes, norms):
        for ax, (prefix, ylabel, scale) in zip(row, PANELS):
            for run in (r for r in runs if r["norm"] == norm):
                layer = list(run["summary"]["layer_l2"])[position]
                points = [(h["epoch"], h[prefix + layer]) for h in run["history"]
                          if prefix + layer in h and h[prefix + layer] > 0]
                if points:
                    ax.plot(*zip(*points), color=colours[run["strength"]],
                            label=f"λ={run['strength']:g}")
                predicted = [(h["epoch"], h[PREDICTED + layer]) for h in run["history"]
                             if h.get(PREDICTED + layer, 0) > 0]
                if prefix.startswith("weights/angular") and predicted:
                    ax.plot(*zip(*predicted), "--", color=colours[run["strength"]])
            ax.set(yscale=scale, xlabel="epoch", ylabel=ylabel,
                   title=f"{layer}, model.norm={norm}, seed {first_seed}")
        row[0].legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path)


def last_rows(runs: list[dict]) -> list[dict]:
    rows = []
    for run in runs:
        last, summary = run["history"][-1], run["summary"]
        for layer in summary["layer_l2"]:
            measured = last.get("weights/angular_update_layer/" + layer)
            predicted = last.get(PREDICTED + layer)
            rows.append({
                "model.norm": run["norm"], "lambda": run["strength"], "layer": layer,
                "seed": run["seed"],
                "test_acc": summary["test_acc"], "test_loss": summary["test_loss"],
                "weight_l2": last["weights/l2_layer/" + layer],
                "effective_lr": last["weights/effective_lr_layer/" + layer],
                "angle": measured, "angle_predicted": predicted,
                "angle/predicted": measured / predicted if measured and predicted else None})
    return rows


def markdown(rows: list[dict], command: str) -> str:
    about = ("Last epoch of every run, each weight matrix. angle = mean angle per step over "
             "the epoch's steps (rad); predicted = sqrt(2·lr·λ/(1 + momentum)).")
    header = ("| model.norm | λ | layer | seed | test acc | test loss | ‖w‖₂ | effective lr | "
              "angle | predicted | angle / predicted |")
    lines = [f"Command: `{command}`", "", about, "", header,
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ratio = "" if r["angle/predicted"] is None else f"{r['angle/predicted']:.3f}"
        lines.append(f"| {r['model.norm']} | {r['lambda']:g} | {r['layer']} | {r['seed']} | "
                     f"{r['test_acc']:.4f} | {r['test_loss']:.4f} | {r['weight_l2']:.3f} | "
                     f"{r['effective_lr']:.3g} | {r['angle']:.4g} | "
                     f"{r['angle_predicted']:.4g} | {ratio} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep", type=Path, help="a sweep directory of runs")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--matrix", type=int, default=1,
                        help="which weight matrix to plot, 0 = the first (default: the second, "
                        "hidden to hidden)")
    args = parser.parse_args()
    runs = load_runs(args.sweep)
    if not runs:
        sys.exit(f"no runs with summary.json under {args.sweep}")
    args.out.mkdir(parents=True, exist_ok=True)
    plot(runs, args.matrix, args.out / "rotation.png")
    rows = last_rows(runs)
    with open(args.out / "rotation.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    command = "python scripts/plot_rotation.py " + shlex.join(sys.argv[1:])
    (args.out / "rotation.md").write_text(markdown(rows, command))
    print(f"{len(runs)} runs -> {args.out / 'rotation.png'}, rotation.csv, rotation.md")


if __name__ == "__main__":
    main()
