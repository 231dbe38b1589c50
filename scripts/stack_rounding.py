"""Where a stacked grid parts from its ordinary runs, and why: the issue's 8-member grid (mlp_l2
784-256-10, dropout 0, batch 256, SGD lr 0.05 momentum 0.9, L2 λ = 0 .. 0.1, all Fashion-MNIST
images) trained for STEPS steps as plain loops over wdbench's own StackedMLP and MLP, once in
float32 and once in float64, on the same batches from the same initial weights. Prints, per
member, the largest relative difference of any parameter between stack and ordinary in float64,
in float32, and each float32 run's distance from its own float64 run.

    python scripts/stack_rounding.py --steps 60 --threads 1
"""

import argparse
import copy

import torch
from torch.nn import functional as F

from wdbench.config.build import build
from wdbench.config.compose import compose_run
from wdbench.stacked.model import StackedMLP
from wdbench.training.module import cross_entropy

GRID = (0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)
BATCH = 256
TASK = ["+experiment=mlp_l2", "model.hidden=[256]", "model.dropout=0", "data.train_size=null",
        f"data.batch_size={BATCH}"]


def task(steps: int):
    """The training rows of the first `steps` batches, in the epoch's order, and the initial
    network every member starts from."""
    cfg = compose_run(TASK)[0]
    data = build(cfg.data, seed=0)
    torch.manual_seed(0)
    model = build(cfg.model, in_features=data.num_features, out_features=data.num_outputs)
    order = torch.randperm(len(data.splits.train_x), generator=torch.Generator().manual_seed(0))
    rows = order[:steps * BATCH]
    return data.splits.train_x[rows], data.splits.train_y[rows], model


def half_square(model, strength, stacked: bool):
    weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
    sums = [w.flatten(1).pow(2).sum(1) if stacked else w.pow(2).sum() for w in weights]
    return 0.5 * strength * sum(sums)


def train(x, y, model, dtype, grid=GRID):
    """(ordinary runs, the stacked model) after one SGD step per batch of (x, y)."""
    ordinary = [copy.deepcopy(model).to(dtype) for _ in grid]
    stack = StackedMLP([copy.deepcopy(model).to(dtype) for _ in grid])
    sgd = [torch.optim.SGD(m.parameters(), lr=0.05, momentum=0.9) for m in ordinary]
    stack_sgd = torch.optim.SGD(stack.parameters(), lr=0.05, momentum=0.9)
    strengths = torch.tensor(grid, dtype=dtype)
    for start in range(0, len(x), BATCH):
        xb, yb = x[start:start + BATCH].to(dtype), y[start:start + BATCH]
        for member, optimizer, strength in zip(ordinary, sgd, grid):
            (F.cross_entropy(member(xb), yb) + half_square(member, strength, False)).backward()
            optimizer.step()
            optimizer.zero_grad()
        loss = cross_entropy(stack(xb), yb) + half_square(stack, strengths, True)
        loss.sum().backward()
        stack_sgd.step()
        stack_sgd.zero_grad()
    return ordinary, stack


def relative_gap(state: dict, reference: dict) -> float:
    """The largest |a - b| / max|b| over the parameters and buffers."""
    return max(((state[k].double() - reference[k].double()).abs().max()
                / reference[k].double().abs().max()).item() for k in reference)


def gaps(x, y, model, dtype):
    ordinary, stack = train(x, y, model, dtype)
    return [relative_gap(stack.member_state_dict(i), m.state_dict())
            for i, m in enumerate(ordinary)], ordinary, stack


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    x, y, model = task(args.steps)
    in64, ord64, _ = gaps(x, y, model, torch.float64)
    in32, ord32, stack32 = gaps(x, y, model, torch.float32)
    print(f"Command: `python scripts/stack_rounding.py --steps {args.steps} --threads "
          f"{args.threads}`\n")
    print("| λ | stack − ordinary, float64 | stack − ordinary, float32 | ordinary float32 − "
          "float64 | stack float32 − ordinary float64 |\n|---|---|---|---|---|")
    for i, strength in enumerate(GRID):
        exact = ord64[i].state_dict()
        print(f"| {strength:g} | {in64[i]:.1e} | {in32[i]:.1e} | "
              f"{relative_gap(ord32[i].state_dict(), exact):.1e} | "
              f"{relative_gap(stack32.member_state_dict(i), exact):.1e} |")


if __name__ == "__main__":
    main()
