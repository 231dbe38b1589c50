#!/usr/bin/env python
"""||g||/||w|| of each scale-invariant weight through a cosine-scheduled run, with the decay
fixed and following the schedule (regularizer.follow_schedule), against the equilibrium
prediction, and what the correction does to the final test loss (paired by seed). Writes
schedule_decay.png, schedule_decay.csv (every epoch, seed means) and schedule_decay.md.

    python scripts/schedule_decay.py runs/results/14_schedule_decay --out results/14_schedule_decay
"""

import argparse
import csv
import json
import math
import shlex
import statistics
import sys
from pathlib import Path

import pandas as pd

from wdbench.report.seeds import interval_text, mean_interval, paired_difference

RATIO = "weights/grad_to_weight_layer/"
PREDICTED = "weights/grad_to_weight_predicted_layer/"
NORMALISED = ["layers.0.weight", "layers.3.weight"]  # each feeds a BatchNorm1d
SETTLED = range(3, 7)  # epochs after the ~100-step approach, the lr still within 10% of its peak
LATE_SHARE = 0.75  # the last quarter of the epochs: lr below 15% of its peak
# While lr_t >= lr_max/5 the decay relaxes ||w|| within a few epochs: the ratio can track its
# prediction. Below, 1/(2ρ_t) steps outgrow what is left of the run.
TRACKING_LR = 0.2
ARMS = {"False": "fixed λ", "True": "λ·lr_t/lr_max"}


def load_runs(sweep: Path) -> list[dict]:
    runs = []
    for path in sorted(sweep.glob("*/summary.json")):
        summary = json.loads(path.read_text())
        overrides = dict(o.split("=", 1) for o in summary["overrides"] if "=" in o)
        with open(path.parent / "history.csv", newline="") as f:
            history = {int(r["epoch"]): {k: float(v) for k, v in r.items() if v != ""}
                       for r in csv.DictReader(f)}
        runs.append({"arm": overrides["regularizer.follow_schedule"].capitalize(),
                     "seed": int(overrides.get("seed", 0)), "summary": summary,
                     "history": history})
    return runs


def epoch_table(runs: list[dict]) -> list[dict]:
    """Per arm, layer and epoch: the seeds' mean lr, measured and predicted ||g||/||w||."""
    rows = []
    for arm in ARMS:
        mine = [r for r in runs if r["arm"] == arm]
        epochs = sorted(set.intersection(*(set(r["history"]) for r in mine)) - {0})
        for layer in NORMALISED:
            for epoch in epochs:
                steps = [r["history"][epoch] for r in mine]
                measured = statistics.mean(s[RATIO + layer] for s in steps)
                predicted = statistics.mean(s[PREDICTED + layer] for s in steps)
                rows.append({"follow_schedule": arm, "layer": layer, "epoch": epoch,
                             "lr": steps[0]["optim/lr"], "grad_to_weight": measured,
                             "predicted": predicted, "measured/predicted": measured / predicted,
                             "grad_norm": statistics.mean(s["weights/grad_norm_layer/" + layer]
                                                          for s in steps)})
    return rows


def rise_rows(rows: list[dict]) -> list[dict]:
    """Per arm and layer: ||g||/||w|| settled early, in the last quarter and at the end."""
    out = []
    for arm in ARMS:
        for layer in NORMALISED:
            mine = [r for r in rows if r["follow_schedule"] == arm and r["layer"] == layer]
            last_epoch = mine[-1]["epoch"]
            settled = within(mine, range(SETTLED.start, SETTLED.stop))
            late = within(mine, [e for e in range(last_epoch + 1) if e > LATE_SHARE * last_epoch])
            out.append({"follow_schedule": arm, "layer": layer,
                        "settled": mean_of(settled, "grad_to_weight"),
                        "late": mean_of(late, "grad_to_weight"),
                        "late/settled": mean_of(late, "grad_to_weight")
                        / mean_of(settled, "grad_to_weight"),
                        "predicted settled": mean_of(settled, "predicted"),
                        "predicted last": mine[-1]["predicted"],
                        "last": mine[-1]["grad_to_weight"], **peak(mine), **tracking(mine)})
    return out


def peak(rows: list[dict]) -> dict:
    top = max(rows, key=lambda r: r["grad_to_weight"])
    return {"peak": top["grad_to_weight"], "peak epoch": top["epoch"]}


def tracking(rows: list[dict]) -> dict:
    """The range of measured/predicted over the settled epochs on, while lr_t >= lr_max/5."""
    lr_max = max(r["lr"] for r in rows)
    ratios = [r["measured/predicted"] for r in rows
              if r["epoch"] >= SETTLED.start and r["lr"] >= TRACKING_LR * lr_max] or [math.nan]
    return {"tracking low": min(ratios), "tracking high": max(ratios)}


def within(rows: list[dict], epochs) -> list[dict]:
    """The rows of `epochs`; the last row where a short run has none of them."""
    return [r for r in rows if r["epoch"] in epochs] or rows[-1:]


def mean_of(rows: list[dict], key: str) -> float:
    return statistics.mean(r[key] for r in rows)


def loss_rows(runs: list[dict]) -> list[dict]:
    """Final test loss and accuracy per arm (mean, 95% t interval over seeds) and the paired
    difference corrected − fixed."""
    frame = pd.DataFrame([{"arm": r["arm"], "seed": r["seed"], **{
        m: r["summary"][m] for m in ("test_loss", "test_acc", "train_loss")}} for r in runs])
    out = []
    for metric in ("test_loss", "test_acc", "train_loss"):
        per_arm = {arm: frame[frame["arm"] == arm].set_index("seed")[metric] for arm in ARMS}
        row = {"metric": metric}
        for arm, values in per_arm.items():
            low, high, _ = mean_interval(values.tolist())
            row[f"{arm} mean"], row[f"{arm} interval"] = values.mean(), interval_text(low, high)
        diff, low, high, seeds = paired_difference(per_arm["True"], per_arm["False"])
        row.update({"difference": diff, "ci_low": low, "ci_high": high, "seeds": seeds})
        out.append(row)
    return out


def plot(rows: list[dict], path: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11, 4.2), dpi=90)
    FigureCanvasAgg(figure)
    for ax, layer in zip(figure.subplots(1, len(NORMALISED)), NORMALISED):
        for colour, arm in zip(("C0", "C1"), ARMS):
            mine = [r for r in rows if r["follow_schedule"] == arm and r["layer"] == layer]
            epochs = [r["epoch"] for r in mine]
            ax.plot(epochs, [r["grad_to_weight"] for r in mine], color=colour, label=ARMS[arm])
            ax.plot(epochs, [r["predicted"] for r in mine], "--", color=colour,
                    label=f"{ARMS[arm]}: predicted")
        ax.set(yscale="log", xlabel="epoch", ylabel="‖g‖/‖w‖ (seed mean)", title=layer)
        ax.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path)


def write_csv(rows: list[dict], path: Path) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def markdown(rises: list[dict], losses: list[dict], seeds: int, command: str) -> str:
    about = (f"‖g‖/‖w‖ of the scale-invariant weights (RMS over each epoch's steps, mean of "
             f"{seeds} seeds): settled = epochs {SETTLED.start}-{SETTLED.stop - 1}, late = the "
             "last quarter of the epochs; predicted = (1 − β)·sqrt(2·ρ_t)/lr_t, ρ_t the decay "
             f"per step; tracking = measured / predicted from epoch {SETTLED.start} while "
             f"lr_t ≥ {TRACKING_LR:g}·lr_max.")
    header = ("| decay | layer | settled | predicted settled | late | late / settled | peak "
              "(epoch) | last | predicted last | tracking |")
    lines = [f"Command: `{command}`", "", about, "", header, "|---" * 10 + "|"]
    for r in rises:
        lines.append(f"| {ARMS[r['follow_schedule']]} | {r['layer']} | {r['settled']:.3f} | "
                     f"{r['predicted settled']:.3f} | {r['late']:.3f} | "
                     f"{r['late/settled']:.2f} | {r['peak']:.3f} ({r['peak epoch']}) | "
                     f"{r['last']:.3f} | {r['predicted last']:.3f} | "
                     f"{r['tracking low']:.2f}-{r['tracking high']:.2f} |")
    about = (f"Final metrics (every row of each split), mean and 95% t interval over {seeds} "
             "seeds; difference = λ·lr_t/lr_max − fixed λ, paired by seed.")
    header = ("| metric | fixed λ | interval | λ·lr_t/lr_max | interval | difference | "
              "95% interval |")
    lines += ["", about, "", header, "|---|---|---|---|---|---|---|"]
    for r in losses:
        lines.append(f"| {r['metric']} | {r['False mean']:.4f} | {r['False interval']} | "
                     f"{r['True mean']:.4f} | {r['True interval']} | {r['difference']:+.4f} | "
                     f"{interval_text(r['ci_low'], r['ci_high'])} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep", type=Path, help="the sweep directory of results.sh's result_14")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    runs = [r for r in load_runs(args.sweep) if r["summary"]["status"] == "completed"]
    if {r["arm"] for r in runs} != set(ARMS):
        sys.exit(f"need completed runs of both regularizer.follow_schedule arms in {args.sweep}")
    args.out.mkdir(parents=True, exist_ok=True)
    rows = epoch_table(runs)
    plot(rows, args.out / "schedule_decay.png")
    write_csv(rows, args.out / "schedule_decay.csv")
    seeds = len({r["seed"] for r in runs})
    command = "python scripts/schedule_decay.py " + shlex.join(sys.argv[1:])
    (args.out / "schedule_decay.md").write_text(
        markdown(rise_rows(rows), loss_rows(runs), seeds, command))
    print(f"{len(runs)} runs -> {args.out}/schedule_decay.png, .csv, .md")


if __name__ == "__main__":
    main()
