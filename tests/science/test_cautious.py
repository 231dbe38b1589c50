"""Cautious weight decay (Chen et al. 2025, arXiv 2510.12402): one step of the real module and
Trainer against the paper's update written out by hand,
    w1 = w0 - lr·u - lr·lambda·[u ⊙ w0 >= 0] ⊙ w0,
with u the optimizer's direction at w0: the full-batch gradient for plain SGD, and for Adam's
first step m̂/(sqrt(v̂) + eps) = g/(|g| + eps). The bias (1-D) is not decayed."""

from functools import partial

import pytest
import torch

from tests.helpers.runs import compose_config
from tests.helpers.stepping import fit_steps, regularizer, tiny_data, tiny_mlp
from wdbench.config.build import build
from wdbench.errors import ConfigError
from wdbench.training.module import squared_error

LR, LAMBDA = 0.05, 2.0
ROWS = 8  # one full batch: the first step's gradient is the whole training set's


def gradients_at_start(model, data) -> dict[str, torch.Tensor]:
    model = model.train()
    loss = squared_error(model(data.splits.train_x), data.splits.train_y)
    names = [n for n, _ in model.named_parameters()]
    return dict(zip(names, torch.autograd.grad(loss, list(model.parameters()))))


def by_hand(model, data, direction) -> dict[str, torch.Tensor]:
    grads = gradients_at_start(model, data)
    expected = {}
    for name, w0 in model.named_parameters():
        u = direction(grads[name])
        step = w0.detach() - LR * u
        if w0.ndim > 1:  # the regularised weights
            aligned = (u * w0.detach() >= 0).float()
            step = step - LR * LAMBDA * aligned * w0.detach()
        expected[name] = step
    return expected


@pytest.mark.parametrize("optimizer, direction", [
    (partial(torch.optim.SGD, lr=LR), lambda g: g),
    (partial(torch.optim.Adam, lr=LR), lambda g: g / (g.abs() + 1e-8)),
], ids=["sgd", "adam"])
def test_one_step_is_the_papers_update(optimizer, direction):
    model, data = tiny_mlp(), tiny_data(train_size=ROWS, batch_size=ROWS)
    steps = fit_steps(model, regularizer("cautious", f"regularizer.strength={LAMBDA}"),
                      optimizer, epochs=1, data=data)
    expected = by_hand(model, data, direction)
    # float32 arithmetic in a different order: a few ulps of values of order 1
    for name, value in steps[0].items():
        torch.testing.assert_close(value, expected[name], rtol=0, atol=1e-6, msg=name)
    grads = gradients_at_start(model, data)
    for name, w0 in model.named_parameters():  # the mask is mixed: the test sees both cases
        if w0.ndim > 1:
            assert 0 < (direction(grads[name]) * w0.detach() >= 0).float().mean() < 1


@pytest.mark.parametrize("overrides, key", [
    (["regularizer.strength=-1"], "regularizer.strength"),
    (["regularizer.scale_by_lr=false", "regularizer.strength=1"], "regularizer.strength"),
    (["regularizer.scale_by_lr=maybe"], "regularizer.scale_by_lr"),
])
def test_refuses_what_decoupled_refuses(overrides, key):
    node = compose_config(["regularizer=cautious", *overrides]).regularizer
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        build(node)
