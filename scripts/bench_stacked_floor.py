"""What batching alone gains on this machine: the same M MLPs trained by plain PyTorch loops,
one after another and as one batched model (a (M, out, in) weight per layer, one matmul per
layer for all members), with no Lightning, no metrics and no files. wdbench's stacked grid can
gain more than this ratio only by saving each run's fixed costs, which a plain loop has none of.
"""

import itertools
import time

import torch
import torch.nn.functional as F
from bench_loops import mlp
from torch import nn


def widths(cfg, features: int, outputs: int) -> list[int]:
    return [features, *cfg.model.hidden, outputs]


def penalty(weights, strengths: torch.Tensor) -> torch.Tensor:
    """Σ_m λ_m/2·‖W_m‖² over the weight matrices, each of shape (M, out, in) or (out, in)."""
    squares = sum(w.pow(2).flatten(start_dim=w.dim() - 2).sum(-1) for w in weights)
    return (strengths * squares).sum() / 2


def sequential_seconds(x, y, sizes, batch: int, strengths: list[float], epochs: int,
                       lr: float, momentum: float) -> float:
    """M ordinary MLPs, one after another, each for `epochs` epochs."""
    started = time.perf_counter()
    for m, strength in enumerate(strengths):
        torch.manual_seed(m)
        model = mlp(sizes)
        optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
        weights = [layer.weight for layer in model if isinstance(layer, nn.Linear)]
        lam = torch.tensor(strength)
        for epoch in range(epochs):
            order = torch.randperm(len(x))
            for start in range(0, len(x), batch):
                index = order[start : start + batch]
                loss = F.cross_entropy(model(x[index]), y[index])
                loss = loss + penalty(weights, lam)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
    return time.perf_counter() - started


def stacked_seconds(x, y, sizes, batch: int, strengths: list[float], epochs: int,
                    lr: float, momentum: float) -> float:
    """The same M MLPs as one model: the minibatch is shared, every layer is one batched
    matmul, the loss is the sum of the members' losses (so each member's gradient is its own)."""
    started = time.perf_counter()
    members = len(strengths)
    weights, biases = [], []
    for width_in, width_out in itertools.pairwise(sizes):
        layers = [nn.Linear(width_in, width_out) for _ in range(members)]
        weights.append(nn.Parameter(torch.stack([lin.weight.detach() for lin in layers])))
        biases.append(nn.Parameter(torch.stack([lin.bias.detach() for lin in layers])))
    optimizer = torch.optim.SGD([*weights, *biases], lr=lr, momentum=momentum)
    lam = torch.tensor(strengths)
    for epoch in range(epochs):
        order = torch.randperm(len(x))
        for start in range(0, len(x), batch):
            index = order[start : start + batch]
            h = x[index]
            for depth, (w, b) in enumerate(zip(weights, biases)):
                h = torch.matmul(h, w.transpose(1, 2)) + b.unsqueeze(1)
                h = torch.relu(h) if depth < len(weights) - 1 else h
            target = y[index].repeat(members)
            loss = F.cross_entropy(h.reshape(-1, h.shape[-1]), target, reduction="sum") / len(index)
            loss = loss + penalty(weights, lam)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return time.perf_counter() - started
