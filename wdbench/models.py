"""Plain torch models; Lightning lives only in training/module.py."""

import math
from collections.abc import Sequence
from itertools import pairwise

import torch
from torch import nn

from wdbench.config.checks import is_count, is_number
from wdbench.errors import ConfigError

NORMS = {"batch": nn.BatchNorm1d, "layer": nn.LayerNorm}


class MLP(nn.Module):
    """Linear layers with ReLU between them. `hidden=[]` is the linear model: regression d->1
    on the synthetic data, softmax regression 784->10 on Fashion-MNIST. `norm` puts a batch or
    layer normalisation after every hidden Linear, before its ReLU. Batch norm makes that
    Linear's weight scale-invariant (the output does not change when it, or any one row of
    it, is multiplied by c > 0) and its bias redundant (the batch mean removes it again);
    layer norm makes the weight and bias scale-invariant together."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        hidden=(),
        dropout: float = 0.0,
        init_std=None,
        norm: str | None = None,
    ):
        super().__init__()
        if not isinstance(hidden, Sequence) or isinstance(hidden, str) or any(
            not is_count(w) for w in hidden
        ):
            raise ConfigError("model.hidden", hidden, "a list of positive integers, e.g. [256]")
        hidden = list(hidden)
        if not is_number(dropout) or not 0 <= dropout < 1:
            raise ConfigError("model.dropout", dropout, "a number in [0, 1)")
        if init_std is not None and (not is_number(init_std) or not 0 < init_std < math.inf):
            raise ConfigError("model.init_std", init_std, "a positive number, or null")
        if norm is not None and norm not in NORMS:
            raise ConfigError("model.norm", norm, "null, batch or layer")
        widths = [in_features, *hidden]
        layers: list[nn.Module] = []
        for width_in, width_out in pairwise(widths):
            layers.append(nn.Linear(width_in, width_out))
            if norm is not None:
                layers.append(NORMS[norm](width_out))
            layers.append(nn.ReLU())
            if dropout:
                layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(widths[-1], out_features))
        self.layers = nn.Sequential(*layers)
        if init_std is not None:
            init_normal(self, init_std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


def check_batch_norm_rows(model: nn.Module, train_rows: int, batch_size: int) -> None:
    """Batch norm cannot train on a minibatch of one row (no variance): the epoch's last
    minibatch must not be one."""
    if train_rows % batch_size == 1 and any(isinstance(m, nn.BatchNorm1d)
                                            for m in model.modules()):
        raise ConfigError("data.batch_size", batch_size,
                          f"a size that does not leave a last minibatch of one row of the "
                          f"{train_rows} training rows (model.norm=batch needs two or more)")


def init_normal(model: nn.Module, std: float) -> None:
    """The lecture's initialisation: weights ~ N(0, std^2), biases 0."""
    for module in model.modules():
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, std=std)
            nn.init.zeros_(module.bias)
