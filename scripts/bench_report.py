"""scripts/benchmark.py's output: Markdown tables, ready to paste into results/performance.md."""

import sys

from bench_loops import LR
from bench_process import BARE_IMPORTS

FASHION_LABEL = ("`python -m wdbench data=fashion_mnist model=mlp trainer.max_epochs=1` "
                 "(all 55,000 images)")
TARGETS = {"b/a": 1.2, "c/b": 5.0, "metrics": 0.10, "startup": 1.5, "per_job": 0.5}


def verdict(value: float, target: float, at_most: bool = True) -> str:
    return "met" if (value <= target if at_most else value >= target) else "**missed**"


def print_all(args, rows: dict, held: tuple, start, sweep, machine: str) -> list[tuple]:
    """Print the tables; return the targets' rows (target, measured, fastest, verdict)."""
    command = ("python scripts/benchmark.py " + " ".join(sys.argv[1:])).strip()
    print(f"## wdbench benchmark\n\nCommand: `{command}`\n\nMachine: {machine}\n")
    epoch_table(rows, args.train_size or 55000, args.metrics_every)
    targets = epoch_targets(rows)
    held_bytes, feature_bytes = held
    print(f"Float data held by wdbench's data module: {held_bytes / 2**20:.1f} MB for "
          f"{feature_bytes / 2**20:.1f} MB of features ({held_bytes / feature_bytes:.2f}x).\n")
    targets.append(("data held once (float bytes / feature bytes)",
                    f"{held_bytes / feature_bytes:.2f}x", "", verdict(held_bytes, feature_bytes)))
    if start is not None:
        targets += startup_table(start)
        targets += multirun_line(sweep, start["bare"]["ready"], args.jobs)
    print("| target | measured (medians) | fastest epochs | |\n|---|---|---|---|")
    for row in targets:
        print("| " + " | ".join(row) + " |")
    return targets


def epoch_table(rows: dict, train_rows: int, metrics_every: int) -> None:
    every = ("every epoch" if metrics_every == 1 else
             f"every {metrics_every} epochs (metrics.every_n_epochs={metrics_every}; b is the mean "
             "epoch, metrics / b the share of all b's time)")
    print(f"Fashion-MNIST, {train_rows} training images, SGD lr {LR}. Median seconds per epoch "
          "over all rounds. b's epoch runs from one epoch's start to the next: the training "
          "steps, the metrics (evaluation pass on train subset, validation and test; weight "
          f"norms; {every}) and their TensorBoard logging. `b train` is its training steps "
          "alone, `b metrics` one evaluation pass with the norms and logging (metrics.eval_rows "
          "rows of each split). b's epochs are all but the last of each run; `b last` is the "
          "last, once per run: its evaluation on every row and the end of training "
          "(histograms, HParams, the figure).\n")
    print("| model | batch | a: plain PyTorch | b: wdbench | b train | b metrics | b last "
          "| c: torchvision + DataLoader | b/a | b train/a | c/b | metrics / b |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for (kind, batch), m in rows.items():
        print(f"| {kind} | {batch} | {m['a']:.3f} | {m['b']:.3f} | {m['b_train']:.3f} | "
              f"{m['metrics']:.4f} | {m['b_last']:.3f} | {m['c']:.2f} | {m['b'] / m['a']:.2f} | "
              f"{m['b_train'] / m['a']:.2f} | {m['c'] / m['b']:.1f} | {m['metrics_share']:.1%} |")
    counts = next(iter(rows.values()))["epochs"]
    print(f"\nEpochs timed per row: a {counts['a']}, b {counts['b']}, c {counts['c']}.\n")


def fastest(m: dict, top: str, bottom: str, digits: int) -> str:
    return f"{m['fastest'][top] / m['fastest'][bottom]:.{digits}f}" if m["fastest"] else ""


def epoch_targets(rows: dict) -> list[tuple]:
    found = []
    for (kind, batch), m in rows.items():
        ratio = m["b"] / m["a"]
        found.append((f"b/a <= {TARGETS['b/a']} ({kind}, batch {batch})", f"{ratio:.2f}",
                      fastest(m, "b", "a", 2), verdict(ratio, TARGETS["b/a"])))
    for (kind, batch), m in rows.items():
        ratio = m["c"] / m["b"]
        found.append((f"c/b >= {TARGETS['c/b']:g} ({kind}, batch {batch})", f"{ratio:.1f}",
                      fastest(m, "c", "b", 1), verdict(ratio, TARGETS["c/b"], at_most=False)))
    for (kind, batch), m in rows.items():
        share = m["metrics_share"]
        found.append((f"metrics <= {TARGETS['metrics']:.0%} of an epoch ({kind}, batch {batch})",
                      f"{share:.1%}", "", verdict(share, TARGETS["metrics"])))
    return found


def startup_table(start: dict) -> list[tuple]:
    bare = start["bare"]["ready"]
    print("| fresh process | seconds to first training step | peak resident MB |\n|---|---|---|")
    print(f"| bare imports: `{BARE_IMPORTS}` | {bare:.2f} (imports done) | "
          f"{start['bare']['peak_mb']:.0f} |")
    found = []
    for kind, label in (("synthetic", "`python -m wdbench trainer.max_epochs=1`"),
                        ("fashion", FASHION_LABEL)):
        r = start[kind]
        extra = r["ready"] - bare
        print(f"| {label} | {r['ready']:.2f} (+{extra:.2f}) | {r['peak_mb']:.0f} |")
        found.append((f"start-up <= {TARGETS['startup']} s beyond bare imports ({kind})",
                      f"{extra:.2f} s", "", verdict(extra, TARGETS["startup"])))
    print()
    return found


def multirun_line(sweep: dict, bare: float, jobs: int) -> list[tuple]:
    per_job = (sweep["wall"] - bare - sweep["train"]) / jobs
    inside = (sweep["in_runs"] - sweep["train"]) / jobs
    print(f"Multirun `python -m wdbench -m seed=0,...,{jobs - 1}` ({jobs} synthetic jobs, "
          f"{sweep['epochs']} epochs in all): {sweep['wall']:.2f} s from launch to exit; the jobs' "
          f"training {sweep['train']:.2f} s; bare imports {bare:.2f} s. Per job {per_job:.2f} s "
          f"beyond training: {inside:.2f} s inside train.run (metrics every epoch, Trainer, "
          f"checkpoint, summary, figure), {per_job - inside:.2f} s in Hydra and the process.")
    plain = sweep.get("no_figure")
    if plain:
        plain_job = (plain["wall"] - bare - plain["train"]) / jobs
        print(f"With `metrics.figure=false` (no curves.png): {plain['wall']:.2f} s from launch "
              f"to exit, per job {plain_job:.2f} s beyond training, "
              f"{(plain['in_runs'] - plain['train']) / jobs:.2f} s of it inside train.run.")
    print()
    return [(f"multirun <= {TARGETS['per_job']} s per job beyond training", f"{per_job:.2f} s",
             "", verdict(per_job, TARGETS["per_job"]))]
