"""Rotation of the regularised matrices: the angle each optimizer step turns a weight matrix
by, its effective learning rate lr/||w||², and the angle rotational equilibrium predicts.

A weight that feeds a normalisation layer is scale-invariant: only its direction matters, so
the angle per step is what it learns by. Weight decay shrinks ||w|| until the gradient's
growth of ||w|| balances it; there the angle per step settles at a value fixed by the
hyperparameters alone (`predicted_angle`). Other weights have no such equilibrium: for them
the prediction is a reference, not a law.

The angle is measured at every step (or every n-th, `metrics.angle_every_n_steps`) and kept
on the device (one small record per step, no host sync); the epoch's mean is computed once,
when the epoch is measured."""

import math

import torch

from wdbench.internals import copy_tensors, subtract_tensors

ANGLE = "weights/angular_update_layer/"
PREDICTED = "weights/angular_update_predicted_layer/"
EFFECTIVE_LR = "weights/effective_lr_layer/"


def matrices(named_weights: list, members: int | None) -> list[tuple[str, torch.Tensor]]:
    """The regularised parameters that are matrices (for a stacked grid: per member)."""
    lead = 0 if members is None else 1
    return [(n, p) for n, p in named_weights if p.ndim - lead >= 2]


def flat(tensors: list[torch.Tensor], members: int | None) -> list[torch.Tensor]:
    """Views of (M, ...) tensors as (M, n), or of others as (n,): reductions over them need
    no reshaping each step."""
    return [t.detach().view(-1) if members is None else t.detach().view(members, -1)
            for t in tensors]


def norms_and_dots(moved: list[torch.Tensor], after: list[torch.Tensor], members: int | None):
    """[||moved_i||, ..., ||after_i||, ..., moved_i·after_i, ...] per matrix (per member)."""
    if members is None:
        return ([torch.linalg.vector_norm(t) for t in (*moved, *after)]
                + [torch.dot(a, b) for a, b in zip(moved, after)])
    return ([torch.linalg.vector_norm(t, dim=1) for t in (*moved, *after)]
            + [(a * b).sum(1) for a, b in zip(moved, after)])


class AngularUpdates:
    """Per measured step: ||Δw||, ||w_after|| and (w_before − w_after)·w_after per matrix,
    from which the angle between w_before and w_after follows exactly (`angles`).

    The work is a copy of the weights, a subtraction and three reductions: about nine passes
    over the weights' memory, against a step's three matrix products over a minibatch: on a
    CPU, with a few hundred rows per minibatch, a share of the step worth saving. So by
    default every 4th step is measured (`metrics.angle_every_n_steps`): the epoch's mean
    over those steps estimates the mean over all of them without bias (minibatches come in a
    random order)."""

    def __init__(self, every_n_steps: int = 1, members: int | None = None):
        self.every_n_steps = every_n_steps
        self.members = members  # a stacked grid's member count: dim 0 of every weight
        self.before: list[torch.Tensor] = []  # flat copies of the weights before the step
        self.weights: list[torch.Tensor] = []  # flat views of the weights themselves
        self.following: list[int] = []  # the weights' storage `before` copies
        self.records: list[torch.Tensor] = []
        self.steps = 0  # steps seen this epoch, measured or not
        self.due = False

    def reset(self) -> None:
        self.records = []
        self.steps = 0

    @torch.no_grad()
    def remember(self, weights: list[torch.Tensor]) -> None:
        self.due = self.steps % self.every_n_steps == 0
        self.steps += 1
        if not self.due:
            return
        storage = [w.data_ptr() for w in weights]
        if storage != self.following:  # first step, or the weights moved (another device)
            self.weights = flat(weights, self.members)
            self.before = [w.clone() for w in self.weights]
            self.following = storage
        elif weights:
            copy_tensors(self.before, self.weights)

    @torch.no_grad()
    def measure(self) -> None:
        if not self.weights or not self.due:
            return
        subtract_tensors(self.before, self.weights)  # before := w_before − w_after
        # One record per step whatever the number of matrices: on a small model each call
        # costs more than its arithmetic.
        self.records.append(torch.stack(norms_and_dots(self.before, self.weights,
                                                       self.members)))

    def epoch_means(self) -> torch.Tensor | None:
        """The mean angle per matrix over the epoch's steps: (L,) or (L, M); None if none."""
        if not self.records:
            return None
        records = torch.stack(self.records)  # (S, 3·L[, M])
        return angles(records.unflatten(1, (3, -1))).mean(dim=0)

    def state_dict(self) -> dict:
        return {"records": [r.cpu() for r in self.records], "steps": self.steps}

    def load_state_dict(self, state: dict, device) -> None:
        self.records = [r.to(device) for r in state.get("records", [])]
        self.steps = state.get("steps", 0)


def angles(records: torch.Tensor) -> torch.Tensor:
    """Angle between w_before and w_after from records (S, 3, L[, M]) of ||Δw||,
    ||w_after|| and (w_before − w_after)·w_after. w_before splits along w_after into
    ||w_after|| + dot/||w_after|| and across it into sqrt(||Δw||² − (dot/||w_after||)²);
    atan2 of the two is accurate for small angles in float32, where acos of a cosine near 1
    loses about 3e-4 rad."""
    moved, after, dot = records.unbind(dim=1)
    after = after.clamp_min(torch.finfo(after.dtype).tiny)
    along = dot / after
    across = (moved.square() - along.square()).clamp_min(0).sqrt()
    return torch.atan2(across, after + along)


def predicted_angle(regularizer, optimizer, lr: float):
    """The equilibrium angle per step of a scale-invariant weight, or None where the optimizer
    and the regulariser give none. Derived in the random-walk model (gradients orthogonal to
    w and independent between steps): ||w||² grows by lr²·E||g||²/(1 − β)² a step through the
    gradients (each one's whole contribution, momentum included) and shrinks by 2ρ||w||²,
    ρ the decay per step; at the balance the step's share across w gives the angle.

    - SGD with momentum β, coupled L2 λ (`l2`, or `weight_decay` with SGD): the momentum
      amplifies the decay too, ρ = lr·λ/(1 − β), and the angle is sqrt(2·lr·λ/(1 + β))
      (Wan, Zhu, Zhang, Sun 2021, "Spherical motion dynamics", their equilibrium angle).
    - SGD with decoupled decay ρ per step (`decoupled`): sqrt(2ρ(1 − β)/(1 + β)), the same
      derivation with the decay outside the momentum.
    - Adam/AdamW with decoupled decay ρ per step (AdamW's `weight_decay`, `decoupled`; ρ =
      lr·λ): the normalised update has E||u||² = C(1 − β1)/(1 + β1) for C elements, the
      norm settles at sqrt(lr·C/(2λ)) and the angle at sqrt(2ρ(1 − β1)/(1 + β1)) (Kosson,
      Messmer, Jaggi 2024, "Rotational equilibrium: how weight decay balances learning
      across neural networks", their AdamW equilibrium).
    - Adam with coupled L2: the decay passes through Adam's normalisation and the balance
      depends on the gradients' size, not on the hyperparameters alone: no prediction. Nor
      for kinds that are no decay (l1, constraints, none), Nesterov or dampened momentum,
      AMSGrad, or other optimizers.
    The lr is the current, scheduled one; a stacked grid gets one value per member."""
    rates = decay_per_step_total(regularizer, optimizer, lr)
    if rates is None:
        return None
    per_step, beta = rates
    return sqrt(2 * per_step * (1 - beta) / (1 + beta))


def decay_per_step_total(regularizer, optimizer, lr: float):
    """(ρ, β): the whole decay per step of the regularised weights and the momentum (β1 for
    Adam), for the optimizers and kinds `predicted_angle` has a prediction for; else None."""
    rates = regularizer.decay_rates(lr)
    if rates is None:
        return None
    coupled, shrink = rates
    group = optimizer.param_groups[0]
    decay = group.get("weight_decay", 0.0)
    if isinstance(optimizer, torch.optim.AdamW) or group.get("decoupled_weight_decay"):
        shrink = shrink + lr * decay  # torch's AdamW: w <- w·(1 − lr·λ)
    else:
        coupled = coupled + decay
    if isinstance(optimizer, torch.optim.SGD):
        beta = group["momentum"]
        if group["nesterov"] or group["dampening"]:
            return None
        return lr * coupled / (1 - beta) + shrink, beta
    if isinstance(optimizer, torch.optim.Adam):
        if group["amsgrad"] or is_nonzero(coupled):
            return None
        return shrink, group["betas"][0]
    return None


def is_nonzero(value) -> bool:
    return bool((value != 0).any()) if isinstance(value, torch.Tensor) else value != 0


def sqrt(value):
    return value.sqrt() if isinstance(value, torch.Tensor) else math.sqrt(value)


@torch.no_grad()
def rotation_metrics(module, regularizer, lr: float) -> dict:
    """The epoch's tags for every regularised matrix: effective lr, mean angle per step, and
    the predicted angle where there is one. Device tensors (or floats); a stacked grid's are
    one value per member."""
    members = regularizer.members
    named = matrices(regularizer.named_weights(module.model), members)
    metrics = {}
    for name, param in named:
        squared = param.square().sum() if members is None else param.flatten(1).square().sum(1)
        # A matrix of zeros (l1_prox makes them) has no direction: a huge but finite value,
        # so that it is not taken for a divergence.
        metrics[EFFECTIVE_LR + name] = lr / squared.clamp_min(torch.finfo(squared.dtype).tiny)
    means = module.angles.epoch_means()
    if means is not None:
        for (name, _), angle in zip(named, means):
            metrics[ANGLE + name] = angle
    predicted = predicted_angle(regularizer, module.trainer.optimizers[0], lr)
    if predicted is not None:
        for name, _ in named:
            metrics[PREDICTED + name] = predicted
    return metrics


def rotating_weights(regularizer, model) -> list[torch.Tensor]:
    """The parameters AngularUpdates follows, in the order rotation_metrics names them."""
    return [p for _, p in matrices(regularizer.named_weights(model), regularizer.members)]
