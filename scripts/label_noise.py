#!/usr/bin/env python
"""Label noise: does weight decay stop a network memorising the wrong labels, and does it do
more than stopping early? Two tables over a sweep of data.label_noise x lambda x seeds:

- memorisation.csv: per noise level and lambda, the mean over seeds (95% interval) of the
  final training accuracy on the labels the noise kept (train_clean_acc) and on the labels it
  changed (train_corrupted_acc: the fraction of wrong labels the network reproduces), beside
  the test accuracy and ||w||.
- early_stopping.csv: per noise level, the lambda = 0 run stopped at its best validation
  accuracy epoch (history.csv; the first such epoch) against the lambda chosen by final
  validation accuracy (the seed mean, as scripts/report.py chooses); their test accuracies
  paired by seed, with a 95% interval.

    python scripts/label_noise.py runs/results/6_label_noise --out results/6_label_noise

Writes memorisation.csv, early_stopping.csv and label_noise.md.
"""

import argparse
import math
from pathlib import Path

import pandas as pd
from omegaconf import OmegaConf

from wdbench.outputs.files import RunDir
from wdbench.report.collect import completed_records
from wdbench.report.markdown import number, table
from wdbench.report.seeds import edge_warning, interval_text, paired_difference, seed_means

KEYS = ["label_noise", "strength"]
METRICS = ["train_clean_acc", "train_corrupted_acc", "train_acc", "test_acc", "weight_l2"]
SELECT = "val_acc"


def run_record(run_dir: Path) -> dict:
    """The run's settings and final metrics, and what its best validation epoch measured."""
    summary = RunDir(run_dir).read_summary()
    config = OmegaConf.load(run_dir / ".hydra" / "config.yaml")
    history = pd.read_csv(RunDir(run_dir).history)
    best = history.loc[history["acc/val"].idxmax()]  # idxmax: the first of equal maxima
    return {"label_noise": float(config.data.label_noise),
            "strength": float(config.regularizer.strength), "seed": summary["seed"],
            "status": summary["status"], "epochs": summary["epochs"],
            **{m: summary.get(m, math.nan) for m in [*METRICS, SELECT]},
            "best_val_epoch": int(best["epoch"]), "best_val_acc": best["acc/val"],
            "test_acc_at_best_val": best["acc/test"],
            "train_corrupted_acc_at_best_val": best.get("acc/train_corrupted", math.nan)}


def chosen_strength(configurations: pd.DataFrame) -> float:
    """The lambda whose seed mean of final validation accuracy is highest."""
    return float(configurations.loc[configurations[SELECT].idxmax(), "strength"])


# Paired by seed on test accuracy: (name, first arm, second arm), each arm (lambda, column).
COMPARISONS = [("decay_minus_stopped", ("chosen", "test_acc"), (0, "test_acc_at_best_val")),
               ("decay_minus_none", ("chosen", "test_acc"), (0, "test_acc")),
               ("both_minus_stopped", ("chosen", "test_acc_at_best_val"),
                (0, "test_acc_at_best_val"))]
COMPARISON_TITLES = ["chosen λ at the end − λ = 0 stopped", "chosen λ − λ = 0, both at the end",
                     "chosen λ stopped − λ = 0 stopped"]


def early_stopping(runs: pd.DataFrame) -> pd.DataFrame:
    """Per noise level: what lambda = 0 stopped at its best validation epoch and the lambda
    chosen at the end reach, and their differences paired by seed."""
    rows = []
    for noise, group in runs.groupby("label_noise"):
        chosen = chosen_strength(seed_means(group, ["strength"], [SELECT]))
        arms = {0: group[group.strength == 0].set_index("seed"),
                "chosen": group[group.strength == chosen].set_index("seed")}
        none, decayed = arms[0], arms["chosen"]
        row = {"label_noise": noise, "chosen_strength": chosen,
               "edge_warning": edge_warning(chosen, group.strength.unique()),
               "decay_test_acc": decayed["test_acc"].mean(),
               "decay_train_corrupted_acc": decayed["train_corrupted_acc"].mean(),
               "decay_stopped_test_acc": decayed["test_acc_at_best_val"].mean(),
               "no_decay_final_test_acc": none["test_acc"].mean(),
               "no_decay_final_train_corrupted_acc": none["train_corrupted_acc"].mean(),
               "stopped_epoch": none["best_val_epoch"].mean(),
               "stopped_test_acc": none["test_acc_at_best_val"].mean(),
               "stopped_train_corrupted_acc": none["train_corrupted_acc_at_best_val"].mean()}
        for name, (arm, column), (other, other_column) in COMPARISONS:
            mean, low, high, seeds = paired_difference(arms[arm][column],
                                                       arms[other][other_column])
            row |= {name: mean, f"{name}_ci_low": low, f"{name}_ci_high": high}
        rows.append(row | {"paired_seeds": seeds})
    return pd.DataFrame(rows)


def cell(row, metric: str) -> str:
    if math.isnan(row[metric]):
        return "–"
    return f"{number(row[metric])} {interval_text(row[metric + '_ci_low'], row[metric + '_ci_high'])}"


def reached_row(r) -> list[str]:
    chosen = number(r.chosen_strength) + (f" {r.edge_warning}" if r.edge_warning else "")
    return [number(r.label_noise), chosen, number(r.decay_test_acc),
            number(r.decay_train_corrupted_acc), number(r.decay_stopped_test_acc),
            number(r.no_decay_final_test_acc), number(r.no_decay_final_train_corrupted_acc),
            number(r.stopped_epoch), number(r.stopped_test_acc),
            number(r.stopped_train_corrupted_acc)]


def difference_row(r) -> list[str]:
    return [number(r.label_noise), *(cell(r, name) for name, _, _ in COMPARISONS),
            str(int(r.paired_seeds))]


def report_text(memorisation: pd.DataFrame, stopping: pd.DataFrame, epochs: int) -> str:
    rows = [[number(r.label_noise), number(r.strength), str(int(r.seeds)),
             *(cell(r, m) for m in METRICS)] for _, r in memorisation.iterrows()]
    return (
        "# Label noise: memorising, and stopping early\n\n"
        "Final training accuracy on the labels the noise kept (train_clean_acc) and on those it\n"
        "changed (train_corrupted_acc: the share of wrong labels reproduced), mean over seeds\n"
        "with a 95% interval (Student's t). At noise 0 every label is kept: train_acc only.\n\n"
        + table(["noise", "λ", "seeds", *(f"{m} (95% interval)" for m in METRICS)], rows)
        + "\n\nEarly stopping: λ = 0 stopped at its best validation-accuracy epoch (the first "
        f"of\nequal ones, of {epochs}), beside the λ chosen by final validation accuracy (at the "
        "end,\nand stopped the same way); means over seeds.\n\n"
        + table(["noise", "chosen λ", "its test acc", "its corrupted acc", "its test acc stopped",
                 "λ=0 final test acc", "λ=0 final corrupted acc", "λ=0 stop epoch",
                 "λ=0 stopped test acc", "λ=0 stopped corrupted acc"],
                [reached_row(r) for _, r in stopping.iterrows()])
        + "\n\nTest accuracy, paired by seed (95% interval):\n\n"
        + table(["noise", *COMPARISON_TITLES, "seeds"],
                [difference_row(r) for _, r in stopping.iterrows()]) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sweeps", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    runs, _ = completed_records(args.sweeps, run_record)
    runs = runs.sort_values([*KEYS, "seed"])
    memorisation = seed_means(runs, KEYS, METRICS)
    stopping = early_stopping(runs)
    args.out.mkdir(parents=True, exist_ok=True)
    memorisation.to_csv(args.out / "memorisation.csv", index=False)
    stopping.to_csv(args.out / "early_stopping.csv", index=False)
    (args.out / "label_noise.md").write_text(
        report_text(memorisation, stopping, int(runs.epochs.max())))
    print(f"[label_noise] {len(runs)} runs -> {args.out}/label_noise.md")


if __name__ == "__main__":
    main()
