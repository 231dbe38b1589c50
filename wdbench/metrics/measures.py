"""What a run measures: data loss and accuracy by an evaluation pass, and the weights' norms.
A stacked grid's model has a member dimension first: its losses and accuracies come out one
per member, and its parameters are measured a member's slice at a time."""

import math

import torch
from torch import nn

EVAL_CHUNK = 8192  # rows per forward pass when evaluating; big chunks, few Python steps
SMALL = 1e-3  # |w| below this counts as "small" (near-sparse) in weights/small_frac
# What is measured of each live member every measured epoch: functions of its (regularised
# weights, unregularised biases), each a list of (name, tensor), returning {tag: device tensor}.
MEASURERS = []


def measurer(measure):
    """Register a measurement of a member's parameters (a decorator)."""
    MEASURERS.append(measure)
    return measure


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn, classification: bool):
    """Mean data loss (and accuracy) in eval mode, no penalty, no dropout: scalars, or one
    per member (M,) for a stacked model."""
    was_training = model.training
    model.eval()
    loss_sum = torch.zeros((), device=x.device)
    correct = torch.zeros((), device=x.device)
    for start in range(0, len(x), EVAL_CHUNK):
        xb, yb = x[start : start + EVAL_CHUNK], y[start : start + EVAL_CHUNK]
        output = model(xb)
        loss_sum = loss_sum + loss_fn(output, yb) * len(xb)
        if classification:
            correct = correct + (output.argmax(dim=-1) == yb).sum(dim=-1)
    model.train(was_training)
    count = max(len(x), 1)
    return loss_sum / count, (correct / count if classification else None)


def spectral_norm(weight: torch.Tensor) -> torch.Tensor:
    """Largest singular value, as sqrt of the largest eigenvalue of the smaller Gram matrix:
    the same number as torch.linalg.matrix_norm(ord=2), which computes a full SVD, for less
    work: the Gram matrix is at most as large as the matrix's shorter side squared."""
    matrix = weight.reshape(weight.shape[0], -1)
    gram = matrix @ matrix.T if matrix.shape[0] <= matrix.shape[1] else matrix.T @ matrix
    try:
        return torch.linalg.eigvalsh(gram)[-1].clamp(min=0).sqrt()
    except torch.linalg.LinAlgError:  # LAPACK's eigh gave up (seen on l1_prox's sparse weights)
        if not torch.isfinite(matrix).all():  # a diverged run's weights: no norm to report
            return torch.full((), math.nan, dtype=matrix.dtype, device=matrix.device)
        return torch.linalg.svdvals(matrix)[0]


def norms(flat: torch.Tensor) -> dict[str, torch.Tensor]:
    """The element-wise statistics of one flattened tensor, kept on its device."""
    magnitude = flat.abs()
    return {
        "l2": flat.norm(),
        "l1": magnitude.sum(),
        "max_abs": magnitude.max(),
        "zero_frac": (flat == 0).float().mean(),
        "small_frac": (magnitude < SMALL).float().mean(),
    }


@torch.no_grad()
def weight_metrics(named_weights: list[tuple[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Norms of the regularised set in total (`weights/l2`, ...) and per parameter
    (`weights/l2_layer/NAME`, ..., `weights/spectral_layer/NAME` for matrices), as device
    tensors (the caller syncs once for all of them)."""
    if not named_weights:
        return {}
    flat = torch.cat([p.detach().reshape(-1) for _, p in named_weights])
    metrics = {f"weights/{key}": value for key, value in norms(flat).items()}
    for name, param in named_weights:
        for key, value in norms(param.detach().reshape(-1)).items():
            metrics[f"weights/{key}_layer/{name}"] = value
        if param.ndim >= 2:
            metrics[f"weights/spectral_layer/{name}"] = spectral_norm(param.detach())
    return metrics


def unregularized_biases(model: nn.Module, regularized: list[torch.Tensor], lead: int = 0):
    """The model's 1-D parameters outside the regularised set (biases, by default); `lead`:
    the dimensions before a member's own (1 for a stacked model)."""
    chosen = {id(p) for p in regularized}
    return [(n, p) for n, p in model.named_parameters()
            if p.ndim - lead <= 1 and id(p) not in chosen]


def member_parameters(model: nn.Module, regularizer, members: int | None) -> list[tuple]:
    """(regularised weights, unregularised biases) by name, for each member: the parameters
    themselves for one plain model (members None), each member's slices for a stacked one."""
    weights = regularizer.named_weights(model)
    biases = unregularized_biases(model, [p for _, p in weights], lead=members is not None)
    if members is None:
        return [(weights, biases)]
    return [([(n, p[m]) for n, p in weights], [(n, p[m]) for n, p in biases])
            for m in range(members)]


@torch.no_grad()
def bias_metrics(named_biases: list[tuple[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """L2 norm and max |b| of the unregularised biases in total, and each one's L2 norm."""
    if not named_biases:
        return {}
    flat = torch.cat([p.detach().reshape(-1) for _, p in named_biases])
    metrics = {"bias/l2": flat.norm(), "bias/max_abs": flat.abs().max()}
    for name, param in named_biases:
        metrics[f"bias/l2_layer/{name}"] = param.detach().norm()
    return metrics


@measurer
def weight_norms(weights, biases) -> dict[str, torch.Tensor]:
    return weight_metrics(weights)


@measurer
def bias_norms(weights, biases) -> dict[str, torch.Tensor]:
    return bias_metrics(biases)
