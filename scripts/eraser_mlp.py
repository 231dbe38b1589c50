#!/usr/bin/env python
"""Weight decay erases a large initialisation of an MLP (Liu et al. 2023, Omnigrok). With plain
SGD and L2 strength lambda every weight gets -lr*lambda*w a step besides its data gradient.
For a ReLU network without biases the data gradient's part along w is the loss's gradient
along the network's own scale, which vanishes as the training set is fitted with growing
margins; so once it is fitted

    ||w(t)|| = (1 - lr lambda)^t ||w(0)||,

and a large init, fitted at once, generalises only when decay has brought ||w|| down to a
norm w_gen. If w_gen depends on neither lambda nor the init (Omnigrok's "Goldilocks" norm),
t_gen * lr * lambda = ln(||w(0)|| / w_gen) is the same for every lambda at one init scale and
grows by 1 per unit of ln(init_std).

Definitions (here and in report.md): steps are optimizer steps; t_fit = the first logged step
with training loss <= FIT; t_gen = the first logged step with test loss <= its minimum over
the run + DELTA; law_error = the largest |(||w(t)|| / law) - 1| up to t_gen.

    python scripts/eraser_mlp.py runs/results/13_null_space_eraser/mlp_* \
        --out results/13_null_space_eraser/mlp

Writes runs.csv, configurations.csv (mean and 95% interval over seeds per lambda and init
scale), report.md and eraser_mlp.png.
"""

import argparse
import csv
import math
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from omegaconf import OmegaConf
from scipy import stats

from wdbench.outputs.files import RunDir
from wdbench.report.collect import completed_records
from wdbench.report.markdown import number, table
from wdbench.report.seeds import CONFIDENCE, interval_text, seed_means

matplotlib.use("Agg")
import matplotlib.pyplot as plt

DELTA = 0.02  # nats of test loss: above SGD's epoch-to-epoch noise in the test loss here
FIT = 0.05  # training loss counted as fitted
KEYS = ["strength", "init_std"]
METRICS = ["norm_start", "t_fit", "t_gen", "t_gen_eta_lambda", "norm_at_gen", "law_error",
           "test_loss_at_fit", "best_test_loss", "test_acc_at_fit", "test_acc_at_gen"]
CURVES = ("epoch", "loss/train", "loss/test", "acc/test", "weights/l2")


def history(run_dir: Path) -> dict[str, np.ndarray]:
    with open(RunDir(run_dir).history, newline="") as f:
        rows = list(csv.DictReader(f))
    return {key: np.array([float(r[key]) for r in rows]) for key in CURVES}


def first_index(below: np.ndarray) -> int:
    return int(np.argmax(below)) if below.any() else -1


def run_record(run_dir: Path) -> dict:
    summary = RunDir(run_dir).read_summary()
    config = OmegaConf.load(run_dir / ".hydra" / "config.yaml")
    lr, strength = float(config.optimizer.lr), float(config.regularizer.strength)
    curves = history(run_dir)
    steps = curves["epoch"] * summary["steps"] / summary["epochs"]
    norm, test = curves["weights/l2"], curves["loss/test"]
    fit = first_index(curves["loss/train"] <= FIT)
    gen = first_index(test <= test.min() + DELTA)
    law = norm[0] * (1 - lr * strength) ** steps
    return {"strength": strength, "init_std": float(config.model.init_std),
            "seed": summary["seed"], "lr": lr, "status": summary["status"],
            "steps": summary["steps"], "norm_start": norm[0],
            "t_fit": steps[fit] if fit >= 0 else math.nan, "t_gen": steps[gen],
            "t_gen_eta_lambda": steps[gen] * lr * strength, "norm_at_gen": norm[gen],
            "law_error": float(np.abs(norm[: gen + 1] / law[: gen + 1] - 1).max()),
            "test_loss_at_fit": test[fit] if fit >= 0 else math.nan,
            "best_test_loss": test.min(), "final_test_loss": test[-1],
            "test_acc_at_fit": curves["acc/test"][fit] if fit >= 0 else math.nan,
            "test_acc_at_gen": curves["acc/test"][gen]}


def init_slopes(runs: pd.DataFrame) -> pd.DataFrame:
    """Per lambda, the least-squares slope of t_gen*lr*lambda and of ln(norm_at_gen) on
    ln(init_std) over every run, with a 95% interval (Student's t on the slope's error)."""
    rows = []
    for strength, group in runs.groupby("strength"):
        if group.init_std.nunique() < 2:  # no slope from one init scale
            continue
        x = np.log(group.init_std)
        row = {"strength": strength, "runs": len(group)}
        for name, y in (("time", group.t_gen_eta_lambda), ("log_norm", np.log(group.norm_at_gen))):
            fit = stats.linregress(x, y)
            half = stats.t.ppf((1 + CONFIDENCE) / 2, len(group) - 2) * fit.stderr
            row |= {f"{name}_slope": fit.slope, f"{name}_slope_ci_low": fit.slope - half,
                    f"{name}_slope_ci_high": fit.slope + half}
        rows.append(row)
    return pd.DataFrame(rows)


def plot(runs: pd.DataFrame, dirs: dict, path: Path) -> None:
    fig, (loss_ax, norm_ax, time_ax) = plt.subplots(1, 3, figsize=(15, 4.5))
    for _, run in runs[runs.seed == runs.seed.min()].iterrows():
        curves = history(dirs[run.name])
        scaled = curves["epoch"] * run.steps / curves["epoch"][-1] * run.lr * run.strength
        label = f"λ {run.strength:g}, init {run.init_std:g}"
        line, = loss_ax.plot(scaled, curves["loss/test"], lw=1, label=label)
        loss_ax.axvline(run.t_gen_eta_lambda, color=line.get_color(), ls=":")
        norm_ax.plot(scaled, curves["weights/l2"] / curves["weights/l2"][0], lw=1,
                     color=line.get_color())
    loss_ax.set(yscale="log", xlabel="steps × ηλ", ylabel="test loss",
                title="seed 0; dotted: t_gen")
    loss_ax.legend(fontsize=6, ncol=2)
    x = np.linspace(0, norm_ax.get_xlim()[1], 50)
    norm_ax.plot(x, np.exp(-x), "k--", lw=1, label="decay alone: exp(−t·ηλ)")
    norm_ax.set(yscale="log", xlabel="steps × ηλ", ylabel="‖w(t)‖ / ‖w(0)‖", title="seed 0")
    norm_ax.legend(fontsize=8)
    time_ax.scatter(np.log(runs.init_std), runs.t_gen_eta_lambda, c=np.log(runs.strength), s=14)
    time_ax.set(xlabel="ln(init_std)", ylabel="t_gen · ηλ",
                title="every run (colour: λ); a Goldilocks norm gives slope 1")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def slope_cell(row, name: str) -> str:
    return (f"{number(row[name + '_slope'])} "
            f"{interval_text(row[name + '_slope_ci_low'], row[name + '_slope_ci_high'])}")


def report_text(configurations: pd.DataFrame, slopes: pd.DataFrame, runs: pd.DataFrame) -> str:
    header = ["λ", "init_std", "seeds", *(f"{m} (95% interval)" for m in METRICS)]
    rows = [[number(r.strength), number(r.init_std), str(int(r.seeds)),
             *(f"{number(r[m])} {interval_text(r[m + '_ci_low'], r[m + '_ci_high'])}"
               for m in METRICS)] for _, r in configurations.iterrows()]
    slope_rows = [[number(r.strength), str(int(r.runs)), slope_cell(r, "time"),
                   slope_cell(r, "log_norm")] for _, r in slopes.iterrows()]
    return (
        "# Weight decay erases a large initialisation of an MLP\n\n"
        f"DELTA = {DELTA:g}, FIT = {FIT:g}; steps are optimizer steps; t_fit = first logged\n"
        "step with training loss <= FIT; t_gen = first logged step with test loss <= the run's\n"
        "minimum + DELTA; law_error = largest |norm / (norm_start (1 - lr lambda)^t) - 1| up\n"
        "to t_gen. Mean over seeds with a 95% interval (Student's t).\n\n"
        + table(header, rows) + "\n\n"
        "Slopes on ln(init_std), per lambda, over every run (least squares, 95% interval):\n"
        "t_gen * lr * lambda (1 if the norm at t_gen is the same for every init) and\n"
        "ln(norm_at_gen) (0 then).\n\n"
        + table(["λ", "runs", "t_gen·ηλ slope", "ln(norm_at_gen) slope"], slope_rows) + "\n\n"
        f"Over all {len(runs)} runs: law_error at most {number(runs.law_error.max())}; "
        f"t_fit / t_gen at most {number((runs.t_fit / runs.t_gen).max())}.\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sweeps", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    runs, dirs = completed_records(args.sweeps, run_record)
    runs = runs.sort_values([*KEYS, "seed"])
    configurations = seed_means(runs, KEYS, METRICS)
    slopes = init_slopes(runs)
    args.out.mkdir(parents=True, exist_ok=True)
    runs.to_csv(args.out / "runs.csv", index=False)
    configurations.to_csv(args.out / "configurations.csv", index=False)
    slopes.to_csv(args.out / "slopes.csv", index=False)
    plot(runs, dict(enumerate(dirs)), args.out / "eraser_mlp.png")
    (args.out / "report.md").write_text(report_text(configurations, slopes, runs))


if __name__ == "__main__":
    main()
