"""The protocol every kind follows, the `none` kind, and the checks the kinds share."""

import math
from collections.abc import Sequence
from fnmatch import fnmatch

import torch
from torch import nn

from wdbench.config.checks import is_number
from wdbench.errors import ConfigError
from wdbench.regularizers.registry import register

ONE_D = "1d"  # the exclude rule for biases and every other parameter with ndim <= 1


def check_strength(strength) -> float:
    if not is_number(strength) or not 0 <= strength < math.inf:
        raise ConfigError("regularizer.strength", strength, "a finite number >= 0")
    return float(strength)


class Regularizer:
    """The base every kind extends: hooks that do nothing, and the regularised set.

    For a stacked grid (wdbench/stacked/), `stack_members` turns a hyperparameter into one
    value per member and dim 0 of every parameter becomes the member dimension; the kinds then
    reduce per member (`sum_each`) and broadcast per member (`per_member`), so one class
    serves an ordinary run and a grid alike."""

    members: int | None = None

    def __init__(self, strength: float = 0.0, exclude=(ONE_D,)):
        self.strength = check_strength(strength)
        if exclude is None or isinstance(exclude, str):
            exclude = [exclude] if exclude else []
        self.exclude = list(exclude) if isinstance(exclude, Sequence) else [exclude]
        if any(not isinstance(rule, str) for rule in self.exclude):
            raise ConfigError("regularizer.exclude", self.exclude,
                              f"a list of '{ONE_D}' and name patterns like '*.bias'")
        self._cache: tuple[int, list] | None = None
        self._zero: torch.Tensor | None = None  # penalty() of a kind without one

    def stack_members(self, members: int, per_member: dict[str, list[float]]) -> None:
        """`members` members of a stacked grid, each with its own value of the keys in
        `per_member` (the others are one value for all)."""
        self.members = members
        for key, values in per_member.items():
            setattr(self, key, torch.tensor(values, dtype=torch.float32))
        self.stacked_keys = tuple(per_member)

    def sum_each(self, tensors) -> torch.Tensor:
        """The sum of all elements: a scalar, or one sum per member for a stacked grid."""
        sums = [t.sum() if self.members is None else t.flatten(1).sum(1) for t in tensors]
        if not sums:
            return torch.zeros(() if self.members is None else self.members)
        return sum(sums[1:], sums[0])

    def move_to(self, device: torch.device) -> None:
        """Put per-member hyperparameters on the model's device once, not every step."""
        for key in getattr(self, "stacked_keys", ()):
            setattr(self, key, getattr(self, key).to(device))

    @staticmethod
    def per_member(value, like: torch.Tensor):
        """A hyperparameter (a number, or one value per member) shaped to scale `like`."""
        if isinstance(value, torch.Tensor):
            return value.to(like.device).view(-1, *[1] * (like.ndim - 1))
        return value

    def is_regularized(self, name: str, param: nn.Parameter) -> bool:
        unit_ndim = param.ndim - (self.members is not None)  # a member's own shape
        for rule in self.exclude:
            if (rule == ONE_D and unit_ndim <= 1) or fnmatch(name, rule):
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
        # Both groups state weight_decay, so an optimizer's own default (AdamW: 0.01) never
        # decays anything behind the regulariser's back.
        chosen = {id(p) for p in self.weights(model)}
        others = [p for p in model.parameters() if id(p) not in chosen]
        groups = [
            {"params": self.weights(model), "weight_decay": self.optimizer_weight_decay},
            {"params": others, "weight_decay": 0.0},
        ]
        return [g for g in groups if g["params"]]

    def penalty(self, model: nn.Module) -> torch.Tensor:
        # One zero tensor, made once: a kind without a penalty allocates nothing per step.
        device = next(model.parameters()).device
        if self._zero is None or self._zero.device != device:
            self._zero = torch.zeros((), device=device)
        return self._zero

    def schedule_peak(self, lr: float) -> None:
        """The optimizer's lr, where a schedule starts: for kinds that scale with lr_t/lr_max."""

    def before_update(self, model: nn.Module, lr: float) -> None:
        pass

    def after_step(self, model: nn.Module, lr: float) -> None:
        pass

    def decay_per_step(self, lr: float) -> float | None:
        """The factor the weights shrink by each step, where the kind has one (for logging)."""
        return None

    def decay_rates(self, lr: float) -> tuple | None:
        """For kinds that act as a weight decay and nothing else: (λ of an L2 term in the
        gradient, shrink per step outside the optimizer), besides the optimizer's own
        weight_decay; None for every other kind. The equilibrium prediction (rotation.py)
        follows from these."""
        return None


@register("none", hparams=(), per_member=())  # its strength is always 0
class NoRegularizer(Regularizer):
    """`regularizer=none`: no penalty, no decay, no constraint."""

    def __init__(self, strength: float = 0.0, exclude=(ONE_D,)):
        super().__init__(strength, exclude)
        if self.strength != 0:  # a strength here would look like a regularised run
            raise ConfigError("regularizer.strength", strength,
                              "0 with regularizer=none, which ignores it (choose a regulariser "
                              "that uses it, e.g. regularizer=l2)")
