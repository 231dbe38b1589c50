"""The data gradient of each regularised matrix, per step: ||g|| and ||g||/||w||, and the
value ||g||/||w|| settles at for a scale-invariant weight (`predicted_grad_ratio`).

Optional (`metrics.grad_norms`): the gradients are read after the backward pass and before
the regulariser's hooks and the optimizer's step, so g is the loss's gradient as the
optimizer receives it: the data loss's alone for the decay kinds (`decoupled`, `weight_decay`,
whose decay is the optimizer's own) and for `none`; with the penalty's gradient for kinds that
add a penalty to the loss (`l2`, `l1`, ...). Like the angle, each step's norms stay on the
device (one small record per step) and are reduced once per epoch."""

import torch

from wdbench.metrics.rotation import decay_per_step_total, flat, matrices, sqrt

GRAD_NORM = "weights/grad_norm_layer/"
GRAD_RATIO = "weights/grad_to_weight_layer/"
GRAD_RATIO_PREDICTED = "weights/grad_to_weight_predicted_layer/"


class GradientNorms:
    """Per step: ||g||² and ||w||² of each matrix (per member of a stacked grid)."""

    def __init__(self, enabled: bool = False, members: int | None = None):
        self.enabled = enabled
        self.members = members
        self.records: list[torch.Tensor] = []

    def reset(self) -> None:
        self.records = []

    @torch.no_grad()
    def measure(self, weights: list[torch.Tensor]) -> None:
        if not self.enabled or not weights or any(w.grad is None for w in weights):
            return
        grads = flat([w.grad for w in weights], self.members)
        values = flat(weights, self.members)
        dim = None if self.members is None else 1
        self.records.append(torch.stack(
            [t.square().sum(dim) for t in (*grads, *values)]))

    def epoch_means(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """Root mean squares over the epoch's steps of ||g|| and of ||g||/||w||, per matrix:
        (L,) or (L, M) each; None if nothing was measured. The random-walk balance is in
        E||g||², so the root of the mean square is what its prediction is for."""
        if not self.records:
            return None
        grads, weights = torch.stack(self.records).unflatten(1, (2, -1)).unbind(dim=1)
        ratio = grads / weights.clamp_min(torch.finfo(weights.dtype).tiny)
        return grads.mean(dim=0).sqrt(), ratio.mean(dim=0).sqrt()

    def state_dict(self) -> dict:
        return {"records": [r.cpu() for r in self.records]}

    def load_state_dict(self, state: dict, device) -> None:
        self.records = [r.to(device) for r in state.get("records", [])]


def predicted_grad_ratio(regularizer, optimizer, lr: float):
    """||g||/||w|| of a scale-invariant weight at equilibrium under SGD with momentum β, or
    None where there is no prediction from the hyperparameters alone. The balance of
    rotation.py (g ⟂ w, gradients independent between steps): the gradients grow ||w||² by
    lr²·E||g||²/(1 − β)² a step, the decay shrinks it by 2ρ||w||² (ρ the decay per step,
    momentum's amplification of a coupled decay included), so
    ||g||/||w|| = (1 − β)·sqrt(2ρ)/lr. Decoupled decay ρ = lr·λ: (1 − β)·sqrt(2λ/lr), which
    grows as lr_t -> 0 under a schedule; with `follow_schedule` ρ = lr_t²·λ/peak_lr and
    the ratio stays (1 − β)·sqrt(2λ/peak_lr) (Defazio 2025, β = 0: sqrt(2λ/lr)).
    Adam(W) normalises the update: the balance sets ||w||² = lr·C/(2λ) for C elements and
    leaves ||g||·||w|| to the loss, so no ratio follows from the hyperparameters."""
    rates = decay_per_step_total(regularizer, optimizer, lr)
    if rates is None or not isinstance(optimizer, torch.optim.SGD):
        return None
    per_step, beta = rates
    return (1 - beta) * sqrt(2 * per_step) / lr


@torch.no_grad()
def gradient_metrics(module, regularizer, lr: float) -> dict:
    """The epoch's gradient tags for every regularised matrix (empty when not measured)."""
    means = module.gradients.epoch_means()
    if means is None:
        return {}
    names = [name for name, _ in matrices(regularizer.named_weights(module.model),
                                          regularizer.members)]
    metrics = {}
    for name, norm, ratio in zip(names, *means):
        metrics[GRAD_NORM + name] = norm
        metrics[GRAD_RATIO + name] = ratio
    predicted = predicted_grad_ratio(regularizer, module.trainer.optimizers[0], lr)
    if predicted is not None:
        metrics.update({GRAD_RATIO_PREDICTED + name: predicted for name in names})
    return metrics
