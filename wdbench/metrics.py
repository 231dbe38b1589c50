"""What a run measures: data loss and accuracy by an evaluation pass, and the weights' norms."""

import torch
from torch import nn

EVAL_CHUNK = 8192  # rows per forward pass when evaluating; big chunks, few Python steps


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss_fn, classification: bool):
    """Mean data loss (and accuracy) in eval mode: no penalty, no dropout."""
    was_training = model.training
    model.eval()
    loss_sum = torch.zeros((), device=x.device)
    correct = torch.zeros((), device=x.device)
    for start in range(0, len(x), EVAL_CHUNK):
        xb, yb = x[start : start + EVAL_CHUNK], y[start : start + EVAL_CHUNK]
        output = model(xb)
        loss_sum += loss_fn(output, yb) * len(xb)
        if classification:
            correct += (output.argmax(dim=1) == yb).sum()
    model.train(was_training)
    count = max(len(x), 1)
    return loss_sum / count, (correct / count if classification else None)


@torch.no_grad()
def weight_metrics(named_weights: list[tuple[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Norms of the regularised set in total and per layer, as device tensors (one sync later)."""
    if not named_weights:
        return {}
    flat = torch.cat([p.detach().reshape(-1) for _, p in named_weights])
    metrics = {
        "weights/l2": flat.norm(),
        "weights/l1": flat.abs().sum(),
        "weights/zero_frac": (flat == 0).float().mean(),
    }
    for name, param in named_weights:
        metrics[f"weights/l2_layer/{name}"] = param.detach().norm()
    return metrics
