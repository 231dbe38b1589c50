"""The symmetries wdbench/report/predictions.py derives its batch-norm slopes from, step by
step in float64: scale the hidden weight (followed by batch norm) by a, its lr by a^p and λ by
a^q, and every run computes the same network, its hidden weight a times the other's."""

import pytest
import torch
from torch import nn

from wdbench.models import MLP
from wdbench.regularizers import L2, Decoupled

SCALE = 3.0
LR, STRENGTH = 0.05, 0.02
HIDDEN = "layers.0.weight"  # the Linear that batch norm follows; layers.3 is the output


def adam(groups):
    return torch.optim.Adam(groups, eps=1e-30)  # eps breaks Adam's own scale invariance


def sgd(groups):
    return torch.optim.SGD(groups, momentum=0.9)


def train(regularizer, optimizer, hidden_scale: float, hidden_lr: float, steps: int = 25):
    """Full-batch steps on fixed random data; the regulariser sees the hidden weight only."""
    torch.manual_seed(0)
    model = MLP(12, 3, hidden=[8], norm="batch").double()
    model.layers[1].eps = 1e-30  # batch norm's eps, like Adam's, breaks the scale invariance
    x, y = torch.randn(40, 12, dtype=torch.float64), torch.randint(0, 3, (40,))
    hidden = model.get_parameter(HIDDEN)
    with torch.no_grad():
        hidden.mul_(hidden_scale)
    rest = [p for name, p in model.named_parameters() if name != HIDDEN]
    step = optimizer([{"params": [hidden], "lr": hidden_lr}, {"params": rest, "lr": LR}])
    for _ in range(steps):
        step.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y) + regularizer.penalty(model)
        loss.backward()
        regularizer.before_update(model, hidden_lr)
        step.step()
    return model(x).detach(), hidden.detach()


# (optimizer, regulariser at strength λ, p, q): lr -> a^p·lr, λ -> a^q·λ; λ* ∝ lr^(q/p)
PAIRINGS = {
    "sgd_l2": (sgd, lambda s: L2(s, exclude=["1d", "layers.3.*"]), 2, -2),
    "sgdw": (sgd, lambda s: Decoupled(s, exclude=["1d", "layers.3.*"]), 2, -2),
    "sgd_unscaled": (sgd, lambda s: Decoupled(s, False, ["1d", "layers.3.*"]), 2, 0),
    "adam_l2": (adam, lambda s: L2(s, exclude=["1d", "layers.3.*"]), 1, -2),
    "adamw": (adam, lambda s: Decoupled(s, exclude=["1d", "layers.3.*"]), 1, -1),
    "adamw_unscaled": (adam, lambda s: Decoupled(s, False, ["1d", "layers.3.*"]), 1, 0),
}


@pytest.mark.parametrize("pairing", PAIRINGS)
def test_scaled_hidden_weight_lr_and_lambda_give_the_same_network(pairing):
    optimizer, regularizer, p, q = PAIRINGS[pairing]
    out, hidden = train(regularizer(STRENGTH), optimizer, 1.0, LR)
    out_scaled, hidden_scaled = train(regularizer(STRENGTH * SCALE**q), optimizer, SCALE,
                                      LR * SCALE**p)
    torch.testing.assert_close(out_scaled, out, rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(hidden_scaled, SCALE * hidden, rtol=1e-9, atol=1e-9)


def test_the_wrong_power_breaks_it():
    """Adam + L2 with λ scaled as AdamW's (1/a rather than 1/a²): a different network."""
    optimizer, regularizer, p, _ = PAIRINGS["adam_l2"]
    out, _ = train(regularizer(STRENGTH), optimizer, 1.0, LR)
    out_scaled, _ = train(regularizer(STRENGTH / SCALE), optimizer, SCALE, LR * SCALE**p)
    assert not torch.allclose(out_scaled, out, rtol=1e-4, atol=1e-4)
