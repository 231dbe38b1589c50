"""AdamW as a box-constrained optimiser (Xie & Li 2024, "Implicit bias of AdamW: l-inf norm
constrained optimization"): full-batch AdamW with decoupled decay lambda (torch's form, w <-
w - lr*lambda*w) converges to a KKT point of min L(w) subject to ||w||_inf <= 1/lambda; on
least squares that is scipy's box-constrained solution (bounds +-1/lambda on w, the bias free),
while Adam with lambda/2 ||w||^2 in the loss lands on ridge. For every linear run of the given
sweeps: its checkpoint's (w, b) against both solutions on its own training rows.

    python scripts/adamw_box.py runs/results/11_adamw_box/*/* --out results/11_adamw_box

Writes runs.csv (one row per run), configurations.csv and report.md (mean and 95% interval over
the seeds per arm, size and number of steps) and distance.png.
"""

import argparse
import json
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from omegaconf import OmegaConf

from wdbench.config.build import build
from wdbench.report.box import box_fit, checkpoint_params, least_squares_loss
from wdbench.report.collect import find_runs
from wdbench.report.markdown import number, table
from wdbench.report.ridge import ridge_fit
from wdbench.report.seeds import interval_text, seed_means

matplotlib.use("Agg")
import matplotlib.pyplot as plt

KEYS = ["rows", "inputs", "arm", "steps"]
METRICS = ["box_distance", "ridge_distance", "loss_gap", "max_abs_weight"]


def arm_name(config, summary) -> str:
    optimizer = summary["choices"]["optimizer"]
    schedule = "cosine" if "Cosine" in str(config.scheduler.get("_target_")) else "constant"
    decay = "L2 in the loss" if summary["choices"]["regularizer"] == "l2" else "decoupled"
    return f"{optimizer} {decay}, {schedule} lr, beta2 {config.optimizer.betas[1]:g}"


def run_record(run_dir: Path) -> dict:
    """One run's (w, b) against the box and ridge solutions on its own training rows (the
    same data config and seed draw the same rows); distances are max |difference|."""
    summary = json.loads((run_dir / "summary.json").read_text())
    config = OmegaConf.load(run_dir / ".hydra" / "config.yaml")
    splits = build(config.data, seed=config.seed).splits
    x, y = splits.train_x.numpy(), splits.train_y.numpy()
    strength = float(config.regularizer.strength)
    params, box = checkpoint_params(run_dir), box_fit(x, y, strength)
    ridge = np.r_[ridge_fit(x, y, strength)]
    inputs = x.reshape(len(x), -1).shape[1]
    return {"rows": len(x), "inputs": inputs, "arm": arm_name(config, summary),
            "steps": summary["steps"], "seed": summary["seed"], "strength": strength,
            "status": summary["status"],
            "box_distance": np.abs(params - box).max(),
            "ridge_distance": np.abs(params - ridge).max(),
            "box_to_ridge": np.abs(box - ridge).max(),
            "least_squares_to_box": np.abs(np.r_[ridge_fit(x, y, 0.0)] - box).max(),
            "binding_fraction": np.isclose(np.abs(box[:inputs]), 1 / strength).mean(),
            "max_abs_weight": np.abs(params[:inputs]).max(),
            "loss_gap": least_squares_loss(x, y, params) - least_squares_loss(x, y, box),
            "box_loss": least_squares_loss(x, y, box)}


def report_table(configurations: pd.DataFrame) -> str:
    header = ["n", "d", "arm", "steps", "seeds", *(f"{m} (95% interval)" for m in METRICS)]
    rows = [[str(r.rows), str(r.inputs), r.arm, str(r.steps), str(r.seeds),
             *(f"{number(r[m])} {interval_text(r[m + '_ci_low'], r[m + '_ci_high'])}"
               for m in METRICS)] for _, r in configurations.iterrows()]
    return table(header, rows)


def plot(configurations: pd.DataFrame, path: Path) -> None:
    sizes = configurations[["rows", "inputs"]].drop_duplicates().values.tolist()
    fig, axes = plt.subplots(1, len(sizes), figsize=(6 * len(sizes), 4.2), squeeze=False)
    for ax, (rows, inputs) in zip(axes[0], sizes):
        size = configurations[(configurations.rows == rows) & (configurations.inputs == inputs)]
        for arm, group in size.groupby("arm"):
            metric = "ridge_distance" if "L2" in arm else "box_distance"
            error = [group[metric] - group[metric + "_ci_low"],
                     group[metric + "_ci_high"] - group[metric]]
            ax.errorbar(group.steps, group[metric], yerr=np.clip(error, 0, None), marker="o",
                        capsize=3, label=f"{arm}: to {'ridge' if 'L2' in arm else 'box'}")
        ax.set(xscale="log", yscale="log", xlabel="full-batch steps",
               ylabel="max |(w, b) - solution|", title=f"n = {rows}, d = {inputs}")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sweeps", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    runs = pd.DataFrame([run_record(d) for d in find_runs(args.sweeps)
                         if (d / "summary.json").is_file()])
    runs = runs.sort_values([*KEYS, "seed"])
    configurations = seed_means(runs[runs.status == "completed"], KEYS,
                                [*METRICS, "box_to_ridge", "binding_fraction", "box_loss"])
    args.out.mkdir(parents=True, exist_ok=True)
    runs.to_csv(args.out / "runs.csv", index=False)
    configurations.to_csv(args.out / "configurations.csv", index=False)
    plot(configurations, args.out / "distance.png")
    (args.out / "report.md").write_text(
        "# AdamW and the box ||w||_inf <= 1/lambda\n\n"
        "Distances are max |(w, b) - solution| over the weights and the bias, in float64 from\n"
        "the checkpoint; box: scipy.optimize.lsq_linear with bounds +-1/lambda on w, the bias\n"
        "free; ridge: the exact minimiser of mean (y_hat - y)^2/2 + (lambda/2)||w||^2;\n"
        "loss_gap: training loss of the run minus that of the box solution. Mean over seeds\n"
        "with a 95% interval (Student's t).\n\n" + report_table(configurations) + "\n\n"
        "Per size (mean over seeds): lambda, the fraction of the box solution's weights on the\n"
        "bound, max abs(box - ridge), the box solution's training loss.\n\n"
        + table(["n", "d", "lambda", "binding fraction", "max abs(box - ridge)", "box loss"],
                [[str(r.rows), str(r.inputs), number(s), number(r.binding_fraction),
                  number(r.box_to_ridge), number(r.box_loss)]
                 for (_, r), s in zip(configurations.drop_duplicates(["rows", "inputs"]).iterrows(),
                                      runs.drop_duplicates(["rows", "inputs"]).strength)])
        + "\n")


if __name__ == "__main__":
    main()
