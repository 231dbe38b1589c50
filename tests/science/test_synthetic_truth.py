"""data.true_weight and data.true_bias: the defaults are the lecture's data bit for bit, other
values set the truth exactly, and a bad value is one clear error."""

import pytest
import torch

from tests.helpers.runs import run_main
from wdbench.data.synthetic import make_synthetic
from wdbench.errors import ConfigError


def lecture_draw(seed: int):
    """The lecture's y = 0.05 + sum_i 0.01 x_i + eps, written out independently."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(20, 200, generator=gen)
    noise = 0.01 * torch.randn(20, 1, generator=gen)
    return x, x.sum(dim=1, keepdim=True) * 0.01 + 0.05 + noise


def test_defaults_reproduce_the_lecture_data_bit_for_bit():
    x, y = lecture_draw(seed=3)
    splits = make_synthetic(seed=3).splits
    assert torch.equal(splits.train_x, x) and torch.equal(splits.train_y, y)


def test_true_weight_and_bias_set_the_truth():
    """Without noise, y - true_bias is exactly true_weight * sum_i x_i (up to float32 rounding
    of the sum of 200 terms)."""
    splits = make_synthetic(seed=0, noise_std=0.0, true_weight=0.5, true_bias=-2.0).splits
    expected = splits.train_x.double().sum(dim=1, keepdim=True) * 0.5 - 2.0
    torch.testing.assert_close(splits.train_y.double(), expected, rtol=0, atol=1e-4)


@pytest.mark.parametrize("key", ["true_weight", "true_bias"])
def test_bad_truth_is_one_clear_error(key):
    with pytest.raises(ConfigError, match=f"data.{key}"):
        make_synthetic(**{key: float("nan")})


def test_bad_truth_from_the_command_line(tmp_path):
    result = run_main(["data.true_weight=abc", "threads=1"], cwd=tmp_path)
    assert result.returncode != 0
    assert "data.true_weight" in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
