"""Kinds that shrink the weights by a factor each step instead of adding to the loss."""

import math

import torch
from torch import nn

from wdbench.config.checks import is_number
from wdbench.errors import ConfigError
from wdbench.regularizers.base import ONE_D, Regularizer
from wdbench.regularizers.registry import register


# A torch optimizer holds one weight_decay per parameter group: one strength per stack.
@register("weight_decay", per_member=())
class WeightDecay(Regularizer):
    """lambda as the optimizer's own `weight_decay` on the regularised group (the lecture's
    "concise" version): coupled L2 for SGD and Adam (the same as `l2`), decoupled for AdamW."""

    @property
    def optimizer_weight_decay(self) -> float:
        return self.strength

    def decay_per_step(self, lr: float) -> float | None:
        return lr * self.strength  # exact for SGD and AdamW; Adam rescales it per weight

    def decay_rates(self, lr: float) -> tuple | None:
        return 0.0, 0.0  # the decay is the optimizer's own weight_decay


@register("decoupled")
class Decoupled(Regularizer):
    """w <- w - lr·lambda·w every step, whatever the optimizer (Loshchilov & Hutter's SGDW and
    AdamW). It acts after the gradients and before the optimizer's update, where torch's AdamW
    decays: Adam + decoupled is AdamW exactly, and plain SGD + decoupled is SGD + l2. The lr
    is the current, scheduled one. `scale_by_lr: false` gives w <- w - lambda·w, as libraries
    that do not tie the decay to the learning rate do.

    `follow_schedule: true` makes lambda follow the schedule as well (Defazio 2025, "Why
    gradients rapidly increase near the end of training": AdamC, SGDC): lambda_t = lambda ·
    lr_t/peak_lr, a decay of lr_t²·lambda/peak_lr per step, so that the equilibrium
    ||g||/||w|| of a scale-invariant weight (rotation.py) stays where the peak lr put it
    while lr_t -> 0. peak_lr is the schedule's largest lr: the optimizer's lr, from which
    the suite's schedules (cosine, step) only go down, unless `peak_lr` says otherwise."""

    def __init__(self, strength: float = 0.0, scale_by_lr: bool = True, exclude=(ONE_D,),
                 follow_schedule: bool = False, peak_lr: float | None = None):
        super().__init__(strength, exclude)
        if not isinstance(scale_by_lr, bool):
            raise ConfigError("regularizer.scale_by_lr", scale_by_lr, "true or false")
        if not scale_by_lr and self.strength >= 1:
            # A factor 1 - lambda <= 0 would flip or zero every weight each step.
            raise ConfigError("regularizer.strength", strength,
                              "a number in [0, 1) when regularizer.scale_by_lr is false")
        self.scale_by_lr = scale_by_lr
        self.follow_schedule = check_follow_schedule(follow_schedule, scale_by_lr, peak_lr)
        self.peak_lr = peak_lr

    def schedule_peak(self, lr: float) -> None:
        if self.peak_lr is None:
            self.peak_lr = lr

    def decay_per_step(self, lr: float) -> float | None:
        if self.follow_schedule:
            return lr * self.strength * (lr / self.peak_lr)
        return lr * self.strength if self.scale_by_lr else self.strength

    def decay_rates(self, lr: float) -> tuple | None:
        return 0.0, self.decay_per_step(lr)

    @torch.no_grad()
    def before_update(self, model: nn.Module, lr: float) -> None:
        keep = 1 - self.decay_per_step(lr)  # the same Python float torch's AdamW uses
        if isinstance(keep, torch.Tensor) or keep != 1:
            for param in self.weights(model):
                param.mul_(self.per_member(keep, param))


def check_follow_schedule(follow_schedule, scale_by_lr: bool, peak_lr) -> bool:
    if not isinstance(follow_schedule, bool):
        raise ConfigError("regularizer.follow_schedule", follow_schedule, "true or false")
    if follow_schedule and not scale_by_lr:
        # lambda·lr_t/peak_lr per step would tie to the lr the decay was asked to ignore.
        raise ConfigError("regularizer.follow_schedule", follow_schedule,
                          "false when regularizer.scale_by_lr is false")
    if peak_lr is not None and not (is_number(peak_lr) and 0 < peak_lr < math.inf):
        raise ConfigError("regularizer.peak_lr", peak_lr,
                          "a number > 0 (the schedule's largest lr), or null for optimizer.lr")
    return follow_schedule
