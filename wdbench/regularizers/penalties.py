"""Kinds that add a penalty to the training loss; autograd gives its (sub)gradient."""

import torch
from torch import nn

from wdbench.config.checks import is_number
from wdbench.errors import ConfigError
from wdbench.regularizers.base import ONE_D, Regularizer
from wdbench.regularizers.registry import register


def check_ratio(l1_ratio) -> float:
    if not is_number(l1_ratio) or not 0 <= l1_ratio <= 1:
        raise ConfigError("regularizer.l1_ratio", l1_ratio, "a number in [0, 1]")
    return float(l1_ratio)


@register("l2")
class L2(Regularizer):
    """(lambda/2)·||w||² added to the loss; its gradient adds lambda·w."""

    def penalty(self, model: nn.Module) -> torch.Tensor:
        return 0.5 * self.strength * self.sum_each(p.pow(2) for p in self.weights(model))

    def decay_per_step(self, lr: float) -> float | None:
        return lr * self.strength

    def decay_rates(self, lr: float) -> tuple | None:
        return self.strength, 0.0


@register("l1")
class L1(Regularizer):
    """lambda·||w||₁ added to the loss. Autograd's gradient of |w| is sign(w) (0 at 0): the
    lecture's subgradient step w <- w - lr·dl/dw - lr·lambda·sign(w). Weights oscillate
    around zero instead of landing on it; `l1_prox` gives exact zeros."""

    def penalty(self, model: nn.Module) -> torch.Tensor:
        return self.strength * self.sum_each(p.abs() for p in self.weights(model))


@register("elastic_net", hparams=("strength", "l1_ratio"))
class ElasticNet(Regularizer):
    """scikit-learn's convention: lambda·(l1_ratio·||w||₁ + (1 - l1_ratio)/2·||w||²).
    l1_ratio = 1 is `l1`, l1_ratio = 0 is `l2`."""

    def __init__(self, strength: float = 0.0, l1_ratio: float = 0.5, exclude=(ONE_D,)):
        super().__init__(strength, exclude)
        self.l1_ratio = check_ratio(l1_ratio)

    def penalty(self, model: nn.Module) -> torch.Tensor:
        weights = self.weights(model)
        l1 = self.l1_ratio * self.sum_each(p.abs() for p in weights)
        l2 = (1 - self.l1_ratio) / 2 * self.sum_each(p.pow(2) for p in weights)
        return self.strength * (l1 + l2)

    def decay_per_step(self, lr: float) -> float | None:
        return lr * self.strength * (1 - self.l1_ratio)
