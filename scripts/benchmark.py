"""How much wdbench costs over a hand-written PyTorch loop, and how much the common
torchvision + DataLoader approach costs over wdbench. Prints Markdown for results/performance.md.

    python scripts/benchmark.py            # full: all 55,000 training images (2-3 minutes)
    python scripts/benchmark.py --quick    # 10,000 images, 2 rounds, 1 start-up try (about 1 minute)

In one process, on the same data (real Fashion-MNIST, loaded once), model, batch size and
threads, interleaved round by round, it times epochs of (a) a plain PyTorch loop, (b) wdbench's
own training path (train.run with its default metrics and TensorBoard logging), (c) torchvision's
FashionMNIST + ToTensor + DataLoader in a minimal LightningModule. Then, in fresh processes: the
time to the first training step against the bare imports, peak memory, and a 10-job multirun.
"""

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import bench_loops as loops
import bench_process as proc
import bench_report as report
import pytorch_lightning as pl
import torch

from wdbench.data.fashion_mnist import make_fashion_mnist
from wdbench.data.splits import choose_train_val
from wdbench.training.train import quiet_lightning

VAL_SIZE = 5000  # conf/data/fashion_mnist.yaml


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="10,000 images, 2 rounds, 1 start-up try")
    p.add_argument("--train-size", type=int, help="training images (default: all, 55,000)")
    p.add_argument("--epochs", type=int, default=3,
                   help="epochs of (a) and (b) per round; b's last is timed apart")
    p.add_argument("--rounds", type=int, help="interleaved rounds a, b, c (default 6; quick 2)")
    p.add_argument("--common-epochs", type=int, default=1, help="epochs of (c) per round")
    p.add_argument("--models", default="linear,mlp")
    p.add_argument("--batch-sizes", default="256,1024")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--startup-tries", type=int, help="fresh processes of each kind (default 3; quick 1)")
    p.add_argument("--jobs", type=int, default=10, help="jobs of the multirun")
    p.add_argument("--json", type=Path, help="also write the measurements and targets here")
    p.add_argument("--metrics-every", type=int, default=1,
                   help="b with metrics.every_n_epochs=N (b is then the mean epoch)")
    p.add_argument("--epochs-only", action="store_true",
                   help="only the epoch table: no fresh processes, no multirun")
    args = p.parse_args(argv)
    quick = args.quick
    args.train_size = args.train_size or (10000 if quick else None)
    args.rounds = args.rounds or (2 if quick else 6)
    args.startup_tries = args.startup_tries or (1 if quick else 3)
    args.models = args.models.split(",")
    args.batch_sizes = [int(b) for b in args.batch_sizes.split(",")]
    return args


def load_average() -> str:
    return ", ".join(f"{v:.1f}" for v in os.getloadavg())


def machine(threads: int, load_at_start: str) -> str:
    with open("/proc/cpuinfo") as cpuinfo:
        cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo
                    if line.startswith("model name")), platform.processor() or "unknown CPU")
    return (f"{cpu}, {os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable), "
            f"{threads} torch threads, torch {torch.__version__}, Lightning {pl.__version__}, "
            f"Python {platform.python_version()}, {platform.system()}; load average (1, 5, 15 min) "
            f"{load_at_start} at the start, {load_average()} at the end")


def time_config(args, kind, batch_size, data, common_data, tmp: Path) -> dict:
    x, y = data.splits.train_x, data.splits.train_y
    overrides = loops.wdbench_overrides(kind, batch_size, args.epochs, args.train_size,
                                        args.threads, args.metrics_every)
    a, b, b_train, b_metrics, b_last, c = [], [], [], [], [], []
    for round_ in range(args.rounds):
        # Alternate which of (a) and (b) goes first, so drift in the machine's load evens out.
        order = ("a", "b") if round_ % 2 == 0 else ("b", "a")
        for which in order:
            if which == "a":
                a += loops.plain_epochs(kind, x, y, batch_size, args.epochs, seed=round_)
            else:
                run = loops.wdbench_epochs(overrides, tmp / f"b_{kind}_{batch_size}_{round_}")
                b += run["epochs"]
                b_train += run["train"]
                b_metrics += run["metrics"]
                b_last += run["last"]
        c += loops.common_epochs(kind, common_data, batch_size, args.common_epochs,
                                 tmp / f"c_{kind}_{batch_size}_{round_}")
    m = {k: loops.median(v) for k, v in
         {"a": a, "b": b, "b_train": b_train, "metrics": b_metrics, "b_last": b_last,
          "c": c}.items()}
    m["metrics_share"] = m["metrics"] / m["b"]
    if args.metrics_every > 1:  # epochs with and without the evaluation pass: average them
        m["b"] = sum(b) / len(b)
        m["metrics_share"] = sum(b_metrics) / sum(b)
    # The fastest epoch of each: other processes only ever add time, so on a busy machine
    # these ratios are the steadier ones (not with metrics.every_n_epochs > 1).
    m["fastest"] = {"a": min(a), "b": min(b), "c": min(c)} if args.metrics_every == 1 else None
    m["epochs"] = {"a": len(a), "b": len(b), "c": len(c)}
    return m


def startup(args, tmp: Path) -> dict:
    fashion = ["data=fashion_mnist", "model=mlp", "trainer.max_epochs=1"]
    tries = {"bare": [], "synthetic": [], "fashion": []}
    for t in range(args.startup_tries):
        tries["bare"].append(proc.bare_imports(args.threads, tmp / f"bare{t}"))
        tries["synthetic"].append(
            proc.first_step(["trainer.max_epochs=1"], args.threads, tmp / f"synthetic{t}"))
        tries["fashion"].append(proc.first_step(fashion, args.threads, tmp / f"fashion{t}"))
    return {kind: {"ready": loops.median([r["ready"] for r in runs]),
                   "peak_mb": max(r["peak_mb"] for r in runs)} for kind, runs in tries.items()}


def progress(what: str, started: float) -> None:
    print(f"[benchmark] {time.perf_counter() - started:5.0f} s: {what}", file=sys.stderr)


def write_json(path: Path, rows: dict, targets: list[tuple]) -> None:
    """What the tables show, for a program to read: seconds per epoch by model and batch size,
    and each target with its measured value and verdict."""
    epochs = [{"model": kind, "batch": batch, **{k: v for k, v in m.items() if k != "fastest"}}
              for (kind, batch), m in rows.items()]
    checked = [dict(zip(("target", "measured", "fastest", "verdict"), row)) for row in targets]
    path.write_text(json.dumps({"epochs": epochs, "targets": checked}, indent=1, default=str))


def main(argv=None) -> None:
    args = parse_args(argv)
    started, load_at_start = time.perf_counter(), load_average()
    quiet_lightning()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory(prefix="wdbench-bench-") as tmp_name:
        tmp = Path(tmp_name)
        data = make_fashion_mnist(train_size=args.train_size, val_size=VAL_SIZE, seed=0)
        held = proc.held_float_bytes(data)
        train_index, _ = choose_train_val(60000, args.train_size, VAL_SIZE, seed=0)
        common_data = loops.common_dataset(loops.torchvision_root(tmp / "tv"), train_index)
        rows = {}
        for kind in args.models:
            for batch_size in args.batch_sizes:
                rows[kind, batch_size] = time_config(args, kind, batch_size, data, common_data, tmp)
                progress(f"timed {kind} batch {batch_size}", started)
        start = sweep = None
        if not args.epochs_only:
            start = startup(args, tmp)
            progress("timed start-up", started)
            sweep = proc.multirun(args.jobs, args.threads, tmp / "multirun")
            # The same without each run's figure (metrics.figure=false): what the figure costs.
            sweep["no_figure"] = proc.multirun(args.jobs, args.threads, tmp / "multirun_nofig",
                                               ("metrics.figure=false",))
            progress("timed the multirun", started)
        targets = report.print_all(args, rows, held, start, sweep,
                                   machine(args.threads, load_at_start))
    if args.json:
        write_json(args.json, rows, targets)
    print(f"\nBenchmark wall time: {time.perf_counter() - started:.0f} s.")
    busiest = max(float(v) for v in (load_at_start + ", " + load_average()).split(", "))
    if busiest > 1.5 * len(os.sched_getaffinity(0)):
        print(f"\nWarning: the machine was busy (load average up to {busiest:.1f} on "
              f"{len(os.sched_getaffinity(0))} cores); other processes distort these timings. "
              "Rerun on a quiet machine.")


if __name__ == "__main__":
    main()
