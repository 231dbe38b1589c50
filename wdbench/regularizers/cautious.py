"""Cautious weight decay (Chen et al. 2025, "Cautious Weight Decay", arXiv 2510.12402)."""

import torch
from torch import nn

from wdbench.internals import copy_tensors
from wdbench.regularizers.decay import Decoupled
from wdbench.regularizers.registry import register


@register("cautious")
class Cautious(Decoupled):
    """Decoupled decay only on the coordinates where the optimizer's update and the weight
    share a sign: w <- w - lr·u - lr·lambda·[u ⊙ w >= 0] ⊙ w, with u the optimizer's own
    update direction (the gradient for SGD, the momentum buffer with momentum, m/(sqrt(v) + eps)
    for Adam). Where the two differ in sign the update moves w away from 0 and the decay would
    fight it, so it is left out there. lr·u is read as the step the optimizer made: the weights
    are remembered before it and the decay, at the old weights, is applied after it."""

    @torch.no_grad()
    def before_update(self, model: nn.Module, lr: float) -> None:
        weights = self.weights(model)
        if getattr(self, "before", None) is None or len(self.before) != len(weights):
            self.before = [w.clone() for w in weights]
        else:
            copy_tensors(self.before, weights)

    @torch.no_grad()
    def after_step(self, model: nn.Module, lr: float) -> None:
        rate = self.decay_per_step(lr)
        for weight, before in zip(self.weights(model), self.before):
            step = before - weight  # lr·u
            aligned = (step * before >= 0).to(before.dtype)
            weight.sub_(self.per_member(rate, weight) * aligned * before)

    def decay_rates(self, lr: float) -> tuple | None:
        return None  # not a decay on every weight: no equilibrium prediction
