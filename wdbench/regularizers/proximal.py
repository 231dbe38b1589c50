"""Kinds that act after the optimizer's step: a proximal step or a projection onto a
constraint set (the proximal operator of its indicator function)."""


import torch
from torch import nn

from wdbench.config.checks import is_number
from wdbench.errors import ConfigError
from wdbench.regularizers.base import ONE_D, Regularizer
from wdbench.regularizers.registry import register


def check_radius(radius) -> float:
    """A bound > 0; inf is no constraint (a radius grid's counterpart of lambda = 0)."""
    if not is_number(radius) or not radius > 0:
        raise ConfigError("regularizer.radius", radius,
                          "a number > 0 (the constraint's bound), or inf for no constraint")
    return float(radius)


@register("l1_prox")
class L1Prox(Regularizer):
    """lambda·||w||₁ by proximal gradient (ISTA): after each step, soft-threshold every
    weight by lr·lambda, w <- sign(w)·max(|w| - lr·lambda, 0). Small weights land on exact
    zeros. With full-batch SGD it converges to the lasso solution."""

    def penalty(self, model: nn.Module) -> torch.Tensor:
        # The objective's term, for logging only (detached): the prox step, not the
        # gradient, enforces it.
        with torch.no_grad():
            return self.strength * self.sum_each(p.abs() for p in self.weights(model))

    @torch.no_grad()
    def after_step(self, model: nn.Module, lr: float) -> None:
        threshold = lr * self.strength
        if not isinstance(threshold, torch.Tensor) and not threshold:
            return
        for param in self.weights(model):
            shrunk = param.abs() - self.per_member(threshold, param)
            param.copy_(param.sign() * shrunk.clamp_min(0))


@register("norm_ball", hparams=("radius",), per_member=("radius",))
class NormBall(Regularizer):
    """The lecture's hard constraint ||w||₂ <= radius (theta = radius²) over all regularised
    weights jointly, by projection after each step: scale them all by radius / ||w|| when
    ||w|| > radius. The start may lie outside the ball; after the first step it never does."""

    def __init__(self, radius=None, exclude=(ONE_D,)):
        super().__init__(0.0, exclude)
        self.radius = check_radius(radius)

    @torch.no_grad()
    def after_step(self, model: nn.Module, lr: float) -> None:
        weights = self.weights(model)
        if weights:
            norm = self.sum_each(p.pow(2) for p in weights).sqrt()
            factor = (self.radius / norm).clamp(max=1.0)  # stays on the device: no host sync
            for param in weights:
                param.mul_(self.per_member(factor, param))


@register("max_norm", hparams=("radius",), per_member=("radius",))
class MaxNorm(Regularizer):
    """Each unit's incoming weight vector has norm <= radius (Srivastava et al. 2014): every
    row of an nn.Linear weight (out, in) is rescaled to the radius when longer. A 1-D
    parameter (a bias, with exclude=[]) has one entry per unit, so |b_i| <= radius."""

    def __init__(self, radius=None, exclude=(ONE_D,)):
        super().__init__(0.0, exclude)
        self.radius = check_radius(radius)

    @torch.no_grad()
    def after_step(self, model: nn.Module, lr: float) -> None:
        lead = 1 + (self.members is not None)  # dims before a unit's incoming weights
        for param in self.weights(model):
            if param.ndim > lead:  # a matrix per member: one row per unit
                norms = param.flatten(lead).norm(dim=-1)
                norms = norms.view(*norms.shape, *[1] * (param.ndim - lead))
            else:  # one entry per unit
                norms = param.abs()
            param.mul_((self.per_member(self.radius, norms) / norms).clamp(max=1.0))
