"""What the span / null-space split (weights/l2_span, weights/l2_null) costs on the benchmark's
tasks (scripts/benchmark.py: Fashion-MNIST's 55,000 training images, softmax regression and an
MLP 784-256-10, batch 256 and 1024): the basis, built once per run, and one measurement, against
a plain PyTorch training epoch, interleaved round by round in this one process.

    python scripts/bench_span.py [--train-size N] [--rounds 3] [--threads 1]

It also times the measurement with the largest basis a 784-input layer can need (392 columns:
rank d/2, projected on the smaller side), the worst case on any data. wdbench measures the
split only up to metrics.span_rows training rows (default 10,000); this script times the basis
for any size, as `metrics.span_rows=null` would build it.
"""

import argparse
import statistics
import sys
import time

import bench_loops as loops
import torch

from wdbench.data.fashion_mnist import make_fashion_mnist
from wdbench.metrics.span import InputSpan

VAL_SIZE = 5000
FIRST_LAYER = {"linear": (10, 784), "mlp": (256, 784)}


def seconds(action, repeats: int = 1) -> float:
    started = time.perf_counter()
    for _ in range(repeats):
        action()
    return (time.perf_counter() - started) / repeats


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--train-size", type=int, default=None, help="default: all 55,000")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    data = make_fashion_mnist(train_size=args.train_size, val_size=VAL_SIZE, seed=0)
    x, y = data.splits.train_x, data.splits.train_y
    builds = [seconds(lambda: InputSpan(x)) for _ in range(2)]
    span = InputSpan(x)
    worst = InputSpan(torch.randn(392, 784))  # rank 392: the largest projection of 784 inputs
    print(f"Command: `python scripts/bench_span.py {' '.join(sys.argv[1:])}`".rstrip() + "\n")
    print(f"{len(x)} images x {x.shape[1]} features, rank {span.rank}; threads {args.threads}; "
          f"the basis, once per run: {min(builds):.3f} s (best of 2)\n")
    print("| model | batch | plain epoch (s) | split (ms) | split / epoch | worst-case split (ms) "
          "| worst / epoch |")
    print("|---|---|---|---|---|---|---|")
    for kind, shape in FIRST_LAYER.items():
        weight = torch.randn(*shape)
        for batch_size in (256, 1024):
            epochs, splits, worst_splits = [], [], []
            for round_ in range(args.rounds):  # A, B, A, B: the machine's drift hits both
                epochs += loops.plain_epochs(kind, x, y, batch_size, 1, seed=round_)
                splits.append(seconds(lambda w=weight: span.split(w), 20))
                worst_splits.append(seconds(lambda w=weight: worst.split(w), 20))
            epoch = statistics.median(epochs)
            split, worst_split = statistics.median(splits), statistics.median(worst_splits)
            print(f"| {kind} | {batch_size} | {epoch:.3f} | {split * 1e3:.3f} | "
                  f"{split / epoch:.2%} | {worst_split * 1e3:.3f} | {worst_split / epoch:.2%} |")


if __name__ == "__main__":
    main()
