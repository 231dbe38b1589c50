"""A λ grid of M members trained as one stacked model vs the same M runs one after another,
in one process on the same data: seconds per member-epoch (training, the per-epoch metrics
and every output file included) and their ratio.

    python scripts/bench_stacked.py                       # M = 8, lambda_grid_mlp's task, 10 epochs
    python scripts/bench_stacked.py --members 24 --epochs 5 --extra data.train_size=null
    python scripts/bench_stacked.py --quick                 # M = 3, 1 epoch, 300 images, 1 round
"""

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout too

from wdbench.config import compose_run
from wdbench.job import Job
from wdbench.stacked.run import run_stack
from wdbench.train import run


def overrides_for(args, strength: float) -> list[str]:
    return ["+experiment=lambda_grid_mlp",
            f"trainer.max_epochs={args.epochs}", f"threads={args.threads}",
            f"regularizer.strength={strength}", *args.extra]


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2, help="sequential/stacked pairs")
    parser.add_argument("--extra", nargs="*", default=[], help="more overrides, e.g. model.hidden=[256]")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke test: M = 3, 1 epoch, 300 images, 1 round")
    args = parser.parse_args()
    if args.quick:
        args.members, args.epochs, args.rounds = 3, 1, 1
        args.extra = ["data.train_size=300", *args.extra]
    strengths = [0] + [10 ** (-5 + 4 * i / max(args.members - 2, 1))
                       for i in range(args.members - 1)]
    configs = [(s, compose_run(overrides_for(args, s))[0]) for s in strengths]
    member_epochs = args.members * args.epochs
    sequential, stacked = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):  # interleaved, so load on the machine hits both alike
            dirs = [Path(tmp, f"seq{r}_{i}") for i in range(len(configs))]
            sequential.append(timed(lambda d=dirs: [run(cfg, path, [])
                                                     for (_, cfg), path in zip(configs, d)]))
            jobs = [Job(cfg, Path(tmp, f"stack{r}_{i}"), []) for i, (_, cfg) in enumerate(configs)]
            stacked.append(timed(lambda j=jobs: run_stack(j)))
    seq, stk = min(sequential) / member_epochs, min(stacked) / member_epochs
    print(f"\n## Stacked grid vs sequential runs (M = {args.members})\n")
    print(f"Command: `python scripts/bench_stacked.py {' '.join(sys.argv[1:])}`".rstrip())
    print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"{args.threads} threads; load average {os.getloadavg()[0]:.2f}\n")
    print("| task | M | epochs | sequential s/member-epoch | stacked s/member-epoch | ratio |")
    print("|---|---|---|---|---|---|")
    task = "lambda_grid_mlp " + " ".join(args.extra)
    print(f"| {task.strip()} | {args.members} | {args.epochs} | {seq:.4f} | {stk:.4f} | "
          f"{seq / stk:.2f}x |")
    print(f"\n(best of {args.rounds} interleaved rounds; every run writes its full outputs)")


if __name__ == "__main__":
    main()
