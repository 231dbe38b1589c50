"""The identities the literature states, step for step through the real module and Trainer:
SGD's weight_decay is L2 (the lecture's update rule), Adam's is too, AdamW's is not, and
AdamW is Adam plus decoupled decay, also with a scheduled learning rate."""

import math
from functools import partial

import torch

from tests.helpers.stepping import assert_same_trajectory, differs, fit_steps, regularizer, tiny_mlp
from wdbench.regularizers import Regularizer

LAMBDA = "regularizer.strength=0.5"
sgd = partial(torch.optim.SGD, lr=0.05)
sgd_momentum = partial(torch.optim.SGD, lr=0.05, momentum=0.9)
adam = partial(torch.optim.Adam, lr=0.01)
adamw = partial(torch.optim.AdamW, lr=0.01)


def cosine(epochs: int):
    return partial(torch.optim.lr_scheduler.CosineAnnealingLR, T_max=epochs)


def test_sgd_weight_decay_equals_l2_step_for_step():
    model = tiny_mlp()
    for optimizer in (sgd, sgd_momentum):
        l2 = fit_steps(model, regularizer("l2", LAMBDA), optimizer)
        decay = fit_steps(model, regularizer("weight_decay", LAMBDA), optimizer)
        assert_same_trajectory(l2, decay)
        free = fit_steps(model, Regularizer(), optimizer)
        assert differs(l2, free) > 0.01  # lambda does act


def test_plain_sgd_decoupled_equals_l2():
    """w <- (1 - lr·lambda)·w - lr·dl/dw is the lecture's update; with momentum they part."""
    model = tiny_mlp()
    l2 = fit_steps(model, regularizer("l2", LAMBDA), sgd)
    assert_same_trajectory(l2, fit_steps(model, regularizer("decoupled", LAMBDA), sgd))
    l2_momentum = fit_steps(model, regularizer("l2", LAMBDA), sgd_momentum)
    sgdw = fit_steps(model, regularizer("decoupled", LAMBDA), sgd_momentum)
    assert differs(l2_momentum, sgdw) > 0.01


def test_adam_weight_decay_is_l2_and_adamw_is_not():
    model = tiny_mlp()
    l2 = fit_steps(model, regularizer("l2", LAMBDA), adam)
    assert_same_trajectory(l2, fit_steps(model, regularizer("weight_decay", LAMBDA), adam))
    true_adamw = fit_steps(model, regularizer("weight_decay", LAMBDA), adamw)
    assert differs(l2, true_adamw) > 0.01


def test_adamw_equals_adam_plus_decoupled():
    model = tiny_mlp()
    true_adamw = fit_steps(model, regularizer("weight_decay", LAMBDA), adamw)
    ours = fit_steps(model, regularizer("decoupled", LAMBDA), adam)
    assert_same_trajectory(true_adamw, ours, atol=0)  # the same float operations


def test_adamw_without_decay_is_adam():
    """What lets the adam_l2_vs_adamw grid keep optimizer=adamw for both arms: with the l2
    regulariser the AdamW group's weight_decay is 0, which is plain Adam."""
    model = tiny_mlp()
    assert_same_trajectory(fit_steps(model, regularizer("l2", LAMBDA), adam),
                           fit_steps(model, regularizer("l2", LAMBDA), adamw), atol=0)


def test_decoupled_follows_the_scheduled_lr_like_adamw():
    model, epochs = tiny_mlp(), 4
    true_adamw = fit_steps(model, regularizer("weight_decay", LAMBDA), adamw, epochs,
                           make_scheduler=cosine(epochs))
    ours = fit_steps(model, regularizer("decoupled", LAMBDA), adam, epochs,
                     make_scheduler=cosine(epochs))
    assert_same_trajectory(true_adamw, ours, atol=0)
    constant = fit_steps(model, regularizer("decoupled", LAMBDA), adam, epochs)
    assert differs(ours, constant) > 0.01


def no_data_gradient(prediction, target):
    return (prediction * 0).sum()


def test_decoupled_decay_is_the_product_of_scheduled_factors():
    """With no data gradient, SGD + decoupled leaves w_T = w_0 · prod_t (1 - lr_t·lambda), lr_t
    the cosine schedule's closed form for step t's epoch (5 batches per epoch)."""
    model, epochs, lr, strength = tiny_mlp(), 4, 0.2, 0.5
    steps = fit_steps(model, regularizer("decoupled", f"regularizer.strength={strength}"),
                      partial(torch.optim.SGD, lr=lr), epochs, loss_fn=no_data_gradient,
                      make_scheduler=cosine(epochs))
    steps_per_epoch = len(steps) // epochs
    start = model.state_dict()
    factor = 1.0
    for step, after in enumerate(steps, start=1):
        epoch_lr = lr * (1 + math.cos(math.pi * ((step - 1) // steps_per_epoch) / epochs)) / 2
        factor *= 1 - epoch_lr * strength
        torch.testing.assert_close(after["layers.0.weight"], start["layers.0.weight"] * factor)
        torch.testing.assert_close(after["layers.0.bias"], start["layers.0.bias"])
    assert len(steps) == 5 * epochs
    assert factor > 2 * (1 - lr * strength) ** len(steps)  # far from a constant lr's decay
