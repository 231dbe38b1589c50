"""Kinds that add a penalty to the training loss; autograd gives its (sub)gradient."""

import torch
from torch import nn

from wdbench.regularizers.base import ONE_D, Regularizer, check_ratio


def sum_of_squares(weights: list[torch.Tensor], zero: torch.Tensor) -> torch.Tensor:
    return sum((p.pow(2).sum() for p in weights), zero)


def sum_of_abs(weights: list[torch.Tensor], zero: torch.Tensor) -> torch.Tensor:
    return sum((p.abs().sum() for p in weights), zero)


class L2(Regularizer):
    """(lambda/2)·||w||² added to the loss; its gradient adds lambda·w."""

    def penalty(self, model: nn.Module) -> torch.Tensor:
        return 0.5 * self.strength * sum_of_squares(self.weights(model), super().penalty(model))

    def decay_per_step(self, lr: float) -> float | None:
        return lr * self.strength


class L1(Regularizer):
    """lambda·||w||₁ added to the loss. Autograd's gradient of |w| is sign(w) (0 at 0): the
    lecture's subgradient step w <- w - lr·dl/dw - lr·lambda·sign(w). Weights oscillate
    around zero instead of landing on it; `l1_prox` gives exact zeros."""

    def penalty(self, model: nn.Module) -> torch.Tensor:
        return self.strength * sum_of_abs(self.weights(model), super().penalty(model))


class ElasticNet(Regularizer):
    """scikit-learn's convention: lambda·(l1_ratio·||w||₁ + (1 - l1_ratio)/2·||w||²).
    l1_ratio = 1 is `l1`, l1_ratio = 0 is `l2`."""

    def __init__(self, strength: float = 0.0, l1_ratio: float = 0.5, exclude=(ONE_D,)):
        super().__init__(strength, exclude)
        self.l1_ratio = check_ratio(l1_ratio)

    def penalty(self, model: nn.Module) -> torch.Tensor:
        zero = super().penalty(model)
        weights = self.weights(model)
        l1 = self.l1_ratio * sum_of_abs(weights, zero)
        l2 = (1 - self.l1_ratio) / 2 * sum_of_squares(weights, zero)
        return self.strength * (l1 + l2)

    def decay_per_step(self, lr: float) -> float | None:
        return lr * self.strength * (1 - self.l1_ratio)
