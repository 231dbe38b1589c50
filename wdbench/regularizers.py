"""Regularisers as one small protocol (design.md section 3). Each kind answers:

- `param_groups(model)`: the optimizer's groups, regularised weights first, with the
  optimizer's own `weight_decay` where the kind uses it;
- `penalty(model)`: the term added to the training loss (0 if none);
- `before_update(model, lr)`: after the gradients, before the optimizer moves the weights
  (decoupled decay acts here, exactly where torch's AdamW applies it);
- `after_step(model, lr)`: after the optimizer step (proximal steps, projections).

The LightningModule calls these four and never asks which kind it holds.
"""

import math
from collections.abc import Sequence
from fnmatch import fnmatch

import torch
from torch import nn

from wdbench.errors import ConfigError

ONE_D = "1d"  # the exclude rule for biases and every other parameter with ndim <= 1


class Regularizer:
    """No regularisation; the base every kind extends."""

    def __init__(self, strength: float = 0.0, exclude=(ONE_D,)):
        if (not isinstance(strength, (int, float)) or isinstance(strength, bool)
                or not 0 <= strength < math.inf):
            raise ConfigError("regularizer.strength", strength, "a finite number >= 0")
        self.strength = float(strength)
        if exclude is None or isinstance(exclude, str):
            exclude = [exclude] if exclude else []
        self.exclude = list(exclude) if isinstance(exclude, Sequence) else [exclude]
        if any(not isinstance(rule, str) for rule in self.exclude):
            raise ConfigError("regularizer.exclude", self.exclude,
                              f"a list of '{ONE_D}' and name patterns like '*.bias'")
        self._cache: tuple[int, list] | None = None

    def is_regularized(self, name: str, param: nn.Parameter) -> bool:
        for rule in self.exclude:
            if (rule == ONE_D and param.ndim <= 1) or fnmatch(name, rule):
                return False
        return True

    def named_weights(self, model: nn.Module) -> list[tuple[str, nn.Parameter]]:
        """The regularised set, by name (cached: asked every step)."""
        if self._cache is None or self._cache[0] != id(model):
            chosen = [(n, p) for n, p in model.named_parameters() if self.is_regularized(n, p)]
            self._cache = (id(model), chosen)
        return self._cache[1]

    def weights(self, model: nn.Module) -> list[nn.Parameter]:
        return [p for _, p in self.named_weights(model)]

    @property
    def optimizer_weight_decay(self) -> float:
        return 0.0

    def param_groups(self, model: nn.Module) -> list[dict]:
        chosen = {id(p) for p in self.weights(model)}
        others = [p for p in model.parameters() if id(p) not in chosen]
        groups = [
            {"params": self.weights(model), "weight_decay": self.optimizer_weight_decay},
            {"params": others, "weight_decay": 0.0},
        ]
        return [g for g in groups if g["params"]]

    def penalty(self, model: nn.Module) -> torch.Tensor:
        return torch.zeros((), device=next(model.parameters()).device)

    def before_update(self, model: nn.Module, lr: float) -> None:
        pass

    def after_step(self, model: nn.Module, lr: float) -> None:
        pass

    def decay_per_step(self, lr: float) -> float | None:
        """The factor the weights shrink by each step, where the kind has one (for logging)."""
        return None


class L2(Regularizer):
    """(lambda/2)·||w||² added to the loss; its gradient adds lambda·w."""

    def penalty(self, model: nn.Module) -> torch.Tensor:
        squares = sum((p.pow(2).sum() for p in self.weights(model)), super().penalty(model))
        return 0.5 * self.strength * squares

    def decay_per_step(self, lr: float) -> float | None:
        return lr * self.strength
