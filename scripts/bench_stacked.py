"""A λ grid of M members trained as one stacked model vs the same M runs one after another,
in one process on the same data: seconds per member-epoch (training, the per-epoch metrics
and every output file included) and their ratio. Beside it, in the same interleaved rounds,
the same pair as plain PyTorch loops (bench_stacked_floor.py): the ratio batching alone gives
on this machine.

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

import bench_stacked_floor as floor

from wdbench.config.build import build, set_threads
from wdbench.config.compose import compose_run
from wdbench.stacked.run import run_stack
from wdbench.training.job import Job
from wdbench.training.train import run


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
    set_threads(args.threads)  # the plain loops' threads; each wdbench run sets its own alike
    plain_args = plain_task(configs[0][1], strengths, args)
    sequential, stacked, plain_sequential, plain_stacked = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):  # interleaved, so load on the machine hits all alike
            dirs = [Path(tmp, f"seq{r}_{i}") for i in range(len(configs))]
            sequential.append(timed(lambda d=dirs: [run(cfg, path, [])
                                                     for (_, cfg), path in zip(configs, d)]))
            jobs = [Job(cfg, Path(tmp, f"stack{r}_{i}"), []) for i, (_, cfg) in enumerate(configs)]
            stacked.append(timed(lambda j=jobs: run_stack(j)))
            plain_sequential.append(floor.sequential_seconds(*plain_args))
            plain_stacked.append(floor.stacked_seconds(*plain_args))
    seq, stk = min(sequential) / member_epochs, min(stacked) / member_epochs
    plain_seq, plain_stk = min(plain_sequential) / member_epochs, min(plain_stacked) / member_epochs
    print(f"\n## Stacked grid vs sequential runs (M = {args.members})\n")
    print(f"Command: `python scripts/bench_stacked.py {' '.join(sys.argv[1:])}`".rstrip() + "\n")
    print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"{args.threads} threads; load average {os.getloadavg()[0]:.2f}\n")
    task = ("lambda_grid_mlp " + " ".join(args.extra)).strip()
    print(f"Task: {task}, M = {args.members}, {args.epochs} epochs\n")
    print("| path | sequential s/member-epoch | stacked s/member-epoch | ratio |")
    print("|---|---|---|---|")
    print(f"| wdbench | {seq:.4f} | {stk:.4f} | {seq / stk:.2f}x |")
    print(f"| plain PyTorch loop | {plain_seq:.4f} | {plain_stk:.4f} | "
          f"{plain_seq / plain_stk:.2f}x |")
    print(f"\n(best of {args.rounds} interleaved rounds; every wdbench run writes its full "
          "outputs; the plain loops train the same shapes on the same images, no metrics)")


def plain_task(cfg, strengths: list[float], args) -> tuple:
    """The arguments of bench_stacked_floor's loops for the wdbench task `cfg`: its training
    images, layer widths, batch size, optimizer settings."""
    data = build(cfg.data, seed=cfg.seed)
    x, y = data.splits.train_x, data.splits.train_y
    sizes = floor.widths(cfg, data.num_features, data.num_outputs)
    return (x, y, sizes, cfg.data.batch_size, strengths, args.epochs, cfg.optimizer.lr,
            cfg.optimizer.get("momentum", 0.0))


if __name__ == "__main__":
    main()
