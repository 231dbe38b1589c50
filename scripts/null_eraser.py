"""Weight decay erases the initialisation (Liu et al. 2023, Omnigrok; Lyu et al. 2024). On the
lecture's task (n = 20 rows, d = 200 inputs, plain SGD with lr eta and L2 lambda) the part of w
orthogonal to the span of the training inputs gets no data gradient and shrinks by (1 - eta
lambda) per step, so the test loss keeps falling after the training loss is about 0, and
reaches its floor when that part is small:

    t_pred = ln(||w_null(0)|| / eps) / (eta lambda)  steps.

Definitions (both here and in report.md): delta = 0.01, the test-loss excess still counted
as "not yet generalised"; eps = sqrt(2 delta), the null-space norm whose own test-loss cost,
||w_null||^2 / 2 for x ~ N(0, I), is delta; t_gen = the first logged step at which the test
loss is within delta of the run's last logged test loss (the runs last until the predicted
null norm is below eps/3, so the remainder costs at most delta/9). t_fit = the first logged
step at which the training loss is below delta. excess_at_pred = the test loss's excess over
its last value at t_pred, in units of delta: a factor f there delays t_gen by about
ln(f) / (2 eta lambda) steps.

    python scripts/null_eraser.py runs/results/13_null_space_eraser/* \
        --out results/13_null_space_eraser

Writes runs.csv, configurations.csv (mean and 95% interval over seeds per lambda and init
scale), report.md and eraser.png.
"""

import argparse
import csv
import json
import math
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from omegaconf import OmegaConf

from wdbench.config.build import build
from wdbench.report.collect import find_runs
from wdbench.report.markdown import number, table
from wdbench.report.seeds import interval_text, seed_means

matplotlib.use("Agg")
import matplotlib.pyplot as plt

DELTA = 0.01
EPSILON = math.sqrt(2 * DELTA)
# Below this factor the null part is at float32's floor (scripts/null_collapse.py).
FLOOR = 1e-5
KEYS = ["bias_decayed", "strength", "init_std"]
METRICS = ["slowest_over_lambda", "null_start", "t_fit", "t_pred", "t_gen", "ratio", "t_gen_eta_lambda",
           "excess_at_pred", "train_loss_at_gen", "final_test_loss"]


def history(run_dir: Path) -> dict[str, np.ndarray]:
    with open(run_dir / "history.csv") as f:
        rows = list(csv.DictReader(f))
    return {key: np.array([float(r[key]) for r in rows])
            for key in ("epoch", "loss/train", "loss/test", "weights/l2_null")}


def first_step(steps: np.ndarray, below: np.ndarray) -> float:
    return float(steps[np.argmax(below)]) if below.any() else math.nan


def slowest_rate(config) -> float:
    """The smallest eigenvalue of the objective's Hessian in (w, b): [X 1]^T [X 1] / n plus
    lambda on each decayed parameter. With the bias free it lies below lambda: the direction
    where w along the inputs' mean and the bias trade off costs the data nothing but that
    mean's spread, so lambda acts on it diluted (about lambda / (1 + ||x_mean||^2))."""
    x = build(config.data, seed=config.seed).splits.train_x.double().numpy()
    design = np.hstack([x.reshape(len(x), -1), np.ones((len(x), 1))])
    decayed = np.r_[np.ones(design.shape[1] - 1), float("1d" not in config.regularizer.exclude)]
    hessian = design.T @ design / len(x) + np.diag(decayed * float(config.regularizer.strength))
    return float(np.linalg.eigvalsh(hessian)[0])


def run_record(run_dir: Path) -> dict:
    summary = json.loads((run_dir / "summary.json").read_text())
    config = OmegaConf.load(run_dir / ".hydra" / "config.yaml")
    lr, strength = float(config.optimizer.lr), float(config.regularizer.strength)
    curves = history(run_dir)
    steps = curves["epoch"] * summary["steps"] / summary["epochs"]
    null, test = curves["weights/l2_null"], curves["loss/test"]
    factor = (1 - lr * strength) ** steps
    exact = factor > FLOOR
    # no null space (as many rows as inputs): nothing to erase, no prediction
    log_ratio = math.log(null[0] / EPSILON) if null[0] > 0 else math.nan
    t_pred = log_ratio / (lr * strength)
    t_gen = first_step(steps, test - test[-1] <= DELTA)
    at_gen = np.argmax(steps >= t_gen) if math.isfinite(t_gen) else -1
    return {"strength": strength, "init_std": float(config.model.init_std),
            "bias_decayed": "1d" not in config.regularizer.exclude,
            "slowest_over_lambda": slowest_rate(config) / strength,
            "seed": summary["seed"], "lr": lr, "status": summary["status"],
            "steps": summary["steps"], "null_start": null[0],
            "null_law_error": float(np.abs(null[exact] / null[0] / factor[exact] - 1).max()),
            "t_null": first_step(steps, null <= EPSILON), "t_fit":
            first_step(steps, curves["loss/train"] <= DELTA), "t_pred": t_pred, "t_gen": t_gen,
            "ratio": t_gen / t_pred, "t_gen_eta_lambda": t_gen * lr * strength,
            "log_ratio": log_ratio,
            "excess_at_pred": float(np.interp(t_pred, steps, test - test[-1])) / DELTA
            if math.isfinite(t_pred) else math.nan,
            "train_loss_at_gen": curves["loss/train"][at_gen], "final_test_loss": test[-1]}


def plot(runs: pd.DataFrame, dirs: dict, path: Path) -> None:
    fig, (curve_ax, time_ax) = plt.subplots(1, 2, figsize=(12, 4.5))
    for _, run in runs[runs.seed == runs.seed.min()].iterrows():
        curves = history(dirs[run.name])
        scaled = curves["epoch"] * run.steps / curves["epoch"][-1] * run.lr * run.strength
        line, = curve_ax.plot(scaled, curves["loss/test"] - curves["loss/test"][-1] + 1e-6,
                              lw=1, label=f"λ {run.strength:g}, init {run.init_std:g}")
        curve_ax.axvline(run.t_pred * run.lr * run.strength, color=line.get_color(), ls=":")
    curve_ax.axhline(DELTA, color="k", lw=0.8)
    curve_ax.set(yscale="log", xlabel="steps × ηλ", ylabel="test loss − final test loss",
                 title="seed 0; dotted: predicted t·ηλ = ln(‖w_null(0)‖/ε)")
    curve_ax.legend(fontsize=6, ncol=2)
    time_ax.scatter(runs.log_ratio, runs.t_gen_eta_lambda, c=np.log(runs.strength), s=14)
    line = np.array([runs.log_ratio.min(), runs.log_ratio.max()])
    time_ax.plot(line, line, "k--", lw=1, label="prediction t_gen·ηλ = ln(‖w_null(0)‖/ε)")
    time_ax.set(xlabel="ln(‖w_null(0)‖ / ε)", ylabel="measured t_gen · ηλ",
                title="every run (colour: λ)")
    time_ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def report_text(configurations: pd.DataFrame, runs: pd.DataFrame) -> str:
    header = ["bias decayed", "λ", "init_std", "seeds", *(f"{m} (95% interval)" for m in METRICS)]
    rows = [[str(r.bias_decayed), number(r.strength), number(r.init_std), str(int(r.seeds)),
             *(f"{number(r[m])} {interval_text(r[m + '_ci_low'], r[m + '_ci_high'])}"
               for m in METRICS)] for _, r in configurations.iterrows()]
    return (
        "# Weight decay erases the initialisation: when the test loss reaches its floor\n\n"
        f"delta = {DELTA:g}; eps = sqrt(2 delta) = {EPSILON:.4g}; steps are optimizer steps;\n"
        "t_pred = ln(null_start / eps) / (lr lambda); t_gen = first logged step with test loss\n"
        "<= last test loss + delta; ratio = t_gen / t_pred; t_fit = first logged step with\n"
        "training loss <= delta; excess_at_pred = (test loss at t_pred - last test loss) /\n"
        "delta, 1 if the test loss were exactly ||w_null||^2 / 2 above its floor. Mean over\n"
        "seeds with a 95% interval (Student's t). slowest_over_lambda: the smallest eigenvalue\n"
        "of the objective's Hessian in (w, b) over lambda (1: nothing decays slower than the\n"
        "null part).\n\n"
        + table(header, rows) + "\n\n"
        f"Over all {len(runs)} runs: ratio from {number(runs.ratio.min())} to "
        f"{number(runs.ratio.max())}, mean {number(runs.ratio.mean())}; the null part's "
        f"largest relative departure from (1 - lr lambda)^t (while above {FLOOR:g}): "
        f"{number(runs.null_law_error.max())}; |t_null - t_pred| / t_pred at most "
        f"{number((np.abs(runs.t_null - runs.t_pred) / runs.t_pred).max())}.\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sweeps", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    dirs = [d for d in find_runs(args.sweeps) if (d / "summary.json").is_file()]
    runs = pd.DataFrame([run_record(d) for d in dirs])
    runs = runs[runs.status == "completed"].sort_values([*KEYS, "seed"])
    configurations = seed_means(runs, KEYS, METRICS)
    args.out.mkdir(parents=True, exist_ok=True)
    runs.to_csv(args.out / "runs.csv", index=False)
    configurations.to_csv(args.out / "configurations.csv", index=False)
    plot(runs, dict(enumerate(dirs)), args.out / "eraser.png")
    (args.out / "report.md").write_text(report_text(configurations, runs))


if __name__ == "__main__":
    main()
