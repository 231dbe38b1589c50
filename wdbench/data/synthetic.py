"""The lecture's high-dimensional linear regression: y = 0.05 + sum_i 0.01 * x_i + eps, with the
true weight and bias settable (inputs stay N(0, I), so only ||w*|| = true_weight * sqrt(d)
matters for the risk)."""

import math

import torch

from wdbench.config.checks import check_count, check_fraction
from wdbench.data.loader import TensorDataModule
from wdbench.data.splits import Splits, add_label_noise, changed_rows, fold_split
from wdbench.errors import ConfigError

TRUE_BIAS = 0.05
TRUE_WEIGHT = 0.01


def generate(count: int, num_inputs: int, noise_std: float, gen: torch.Generator,
             true_weight: float = TRUE_WEIGHT, true_bias: float = TRUE_BIAS):
    x = torch.randn(count, num_inputs, generator=gen)
    noise = noise_std * torch.randn(count, 1, generator=gen)
    y = x.sum(dim=1, keepdim=True) * true_weight + true_bias + noise
    return x, y


def check_finite(key: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(key, value, "a finite number")
    return float(value)


def make_synthetic(
    batch_size: int = 5,
    train_size: int = 20,
    val_size: int = 0,
    test_size: int = 100,
    num_inputs: int = 200,
    noise_std: float = 0.01,
    label_noise: float = 0.0,
    true_weight: float = TRUE_WEIGHT,
    true_bias: float = TRUE_BIAS,
    folds=None,
    fold: int = 0,
    seed: int = 0,
) -> TensorDataModule:
    """Same seed, same data: training, validation and test draws come from one generator.
    With `folds`, fold number `fold` of the training draw validates instead (k-fold CV)."""
    train_size = check_count("data.train_size", train_size, 1, 10**8)
    val_size = check_count("data.val_size", val_size, 0, 10**8)
    test_size = check_count("data.test_size", test_size, 1, 10**8)
    num_inputs = check_count("data.num_inputs", num_inputs, 1, 10**6)
    label_noise = check_fraction("data.label_noise", label_noise)
    if isinstance(noise_std, bool) or not isinstance(noise_std, (int, float)) or not (
            0 <= noise_std < math.inf):
        raise ConfigError("data.noise_std", noise_std, "a finite number >= 0")
    truth = {"true_weight": check_finite("data.true_weight", true_weight),
             "true_bias": check_finite("data.true_bias", true_bias)}
    gen = torch.Generator().manual_seed(seed)
    train_x, train_y = generate(train_size, num_inputs, noise_std, gen, **truth)
    val_x, val_y = generate(val_size, num_inputs, noise_std, gen, **truth)
    test_x, test_y = generate(test_size, num_inputs, noise_std, gen, **truth)
    if folds is not None:
        keep, held_out = fold_split(train_size, folds, fold, seed)
        val_x, val_y = train_x[held_out], train_y[held_out]
        train_x, train_y = train_x[keep], train_y[keep]
    noisy_y = add_label_noise(train_y, label_noise, num_classes=1, seed=seed)
    splits = Splits(train_x, noisy_y, val_x, val_y, test_x, test_y, "regression", 1,
                    train_corrupted=changed_rows(train_y, noisy_y))
    return TensorDataModule(splits, batch_size, seed)
