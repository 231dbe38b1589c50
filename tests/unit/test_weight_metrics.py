"""Weight norms, bias norms and histograms against torch.linalg and numpy on known tensors."""

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from wdbench.metrics.callback import to_host
from wdbench.metrics.histograms import HISTOGRAMS_PER_RUN, histogram_epochs, histogram_stats
from wdbench.metrics.measures import (
    SMALL,
    bias_metrics,
    spectral_norm,
    unregularized_biases,
    weight_metrics,
)
from wdbench.models import MLP
from wdbench.regularizers import Regularizer


def host(metrics: dict) -> dict[str, float]:
    return to_host(metrics, {})[0]


def is_fraction(value: float, count: int, total: int) -> bool:
    """A float32 fraction that is exactly count/total: the count comes back whole."""
    return round(value * total) == count and value == pytest.approx(count / total, rel=1e-6)


def test_norms_of_a_known_matrix():
    # Singular values 5 and 3 (a scaled rotation block), planted zeros and small entries.
    weight = torch.tensor([[3.0, 0.0, 0.0], [0.0, 5.0, 0.0], [0.0, 0.0, 0.0005]])
    bias_like = torch.tensor([[-2.0, 0.0]])
    values = host(weight_metrics([("a", weight), ("b", bias_like)]))
    assert values["weights/spectral_layer/a"] == pytest.approx(5.0, rel=1e-6)
    assert values["weights/spectral_layer/b"] == pytest.approx(2.0, rel=1e-6)
    assert values["weights/l2"] == pytest.approx(math.sqrt(9 + 25 + 0.0005**2 + 4), rel=1e-6)
    assert values["weights/l1"] == pytest.approx(3 + 5 + 0.0005 + 2, rel=1e-6)
    assert values["weights/max_abs"] == 5.0
    assert is_fraction(values["weights/zero_frac"], 7, 11)  # six zeros in a, one in b
    assert is_fraction(values["weights/small_frac"], 8, 11)  # the zeros and 0.0005
    assert is_fraction(values["weights/zero_frac_layer/a"], 6, 9)
    assert values["weights/max_abs_layer/b"] == 2.0


@settings(max_examples=25, deadline=None)
@given(rows=st.integers(1, 40), cols=st.integers(1, 40), scale=st.floats(1e-3, 1e3),
       zero_every=st.integers(2, 7), seed=st.integers(0, 10_000))
def test_norms_agree_with_torch_linalg(rows, cols, scale, zero_every, seed):
    gen = torch.Generator().manual_seed(seed)
    weight = torch.randn(rows, cols, generator=gen) * scale
    weight.view(-1)[::zero_every] = 0.0
    vector = torch.randn(7, generator=gen)
    values = host(weight_metrics([("w", weight), ("v", vector)]))
    both = torch.cat([weight.reshape(-1), vector]).double()
    assert values["weights/l2"] == pytest.approx(torch.linalg.vector_norm(both).item(), rel=1e-5)
    assert values["weights/l1"] == pytest.approx(
        torch.linalg.vector_norm(both, ord=1).item(), rel=1e-5)
    assert values["weights/max_abs"] == pytest.approx(
        torch.linalg.vector_norm(both, ord=math.inf).item(), rel=1e-6)
    assert is_fraction(values["weights/zero_frac"], (both == 0).sum().item(), both.numel())
    small = (both.abs() < SMALL).sum().item()
    assert is_fraction(values["weights/small_frac"], small, both.numel())
    expected = torch.linalg.matrix_norm(weight.double(), ord=2).item()
    assert values["weights/spectral_layer/w"] == pytest.approx(expected, rel=1e-4, abs=1e-6)
    assert "weights/spectral_layer/v" not in values  # a vector has no spectral norm
    assert values["weights/l2_layer/w"] == pytest.approx(
        torch.linalg.matrix_norm(weight.double()).item(), rel=1e-5)


def test_spectral_norm_of_a_zero_matrix_is_zero():
    assert spectral_norm(torch.zeros(4, 6)).item() == 0.0


def test_spectral_norm_where_lapacks_eigh_gives_up():
    """The sparsity pattern of a real l1_prox layer (tests/data): float32 eigh of its Gram
    matrix fails to converge; the norm must still be torch.linalg's."""
    text = (Path(__file__).parents[1] / "data" / "l1_prox_sparsity.txt").read_text()
    flat = [int(n) for line in text.splitlines() if not line.startswith("#") for n in line.split()]
    weight = torch.zeros(512 * 512)
    weight[flat] = torch.randn(len(flat), generator=torch.Generator().manual_seed(0)) * 0.3
    weight = weight.reshape(512, 512)
    with pytest.raises(torch.linalg.LinAlgError):  # the failure the fallback exists for
        torch.linalg.eigvalsh(weight @ weight.T)
    expected = torch.linalg.matrix_norm(weight.double(), ord=2).item()
    assert spectral_norm(weight).item() == pytest.approx(expected, rel=1e-5)


def test_spectral_norm_of_diverged_weights_is_nan():
    """A stacked member that diverged keeps non-finite weights; its norm is NaN, not an error
    that fails the other members of its stack."""
    for bad in (math.nan, math.inf):
        weight = torch.ones(4, 6)
        weight[1, 2] = bad
        assert math.isnan(spectral_norm(weight).item())


def test_biases_are_the_unregularized_one_dimensional_parameters():
    model = MLP(5, 2, hidden=[3])
    default = Regularizer(strength=1.0)
    biases = unregularized_biases(model, default.weights(model))
    assert [name for name, _ in biases] == ["layers.0.bias", "layers.2.bias"]
    values = host(bias_metrics(biases))
    flat = torch.cat([model.layers[0].bias, model.layers[2].bias]).detach()
    assert values["bias/l2"] == pytest.approx(torch.linalg.vector_norm(flat).item(), rel=1e-6)
    assert values["bias/max_abs"] == pytest.approx(flat.abs().max().item())
    everything = Regularizer(strength=1.0, exclude=[])  # biases regularised: none left apart
    assert unregularized_biases(model, everything.weights(model)) == []
    assert bias_metrics([]) == {}


def test_histogram_matches_numpy():
    gen = torch.Generator().manual_seed(0)
    weight = torch.randn(30, 17, generator=gen)
    _, lists = to_host({}, {"w": histogram_stats(weight, bins=12)})
    stats = lists["w"]
    low, high, count, total, squares = stats[:5]
    edges, counts = stats[5:17], stats[17:]
    flat = weight.reshape(-1).numpy()
    assert (low, high, count) == (flat.min(), flat.max(), flat.size)
    assert total == pytest.approx(flat.sum(), abs=1e-4)
    assert squares == pytest.approx((flat.astype(np.float64) ** 2).sum(), rel=1e-5)
    expected, expected_edges = np.histogram(flat, bins=12, range=(flat.min(), flat.max()))
    assert np.allclose(edges, expected_edges[1:], rtol=1e-5)
    assert np.array_equal(np.array(counts), expected)


def test_histogram_of_a_constant_tensor_puts_everything_in_one_bucket():
    _, lists = to_host({}, {"w": histogram_stats(torch.full((10,), 0.25), bins=4)})
    counts = lists["w"][5 + 4 :]
    assert counts == [10.0, 0.0, 0.0, 0.0]


@pytest.mark.parametrize("max_epochs", [1, 3, 19, 20, 60, 100, 1000])
def test_histogram_epochs_are_few_spread_and_include_both_ends(max_epochs):
    epochs = histogram_epochs(max_epochs)
    assert {0, max_epochs} <= epochs <= set(range(max_epochs + 1))
    assert len(epochs) == min(HISTOGRAMS_PER_RUN, max_epochs + 1)
    gaps = np.diff(sorted(epochs))
    assert gaps.max() - gaps.min() <= 1  # evenly spread


def test_to_host_splits_one_transfer_back_into_names():
    values, lists = to_host({"a": torch.tensor(1.5), "b": 2, "c": torch.tensor(-3.0)},
                            {"h": torch.arange(4.0), "g": torch.tensor([7.0])})
    assert values == {"a": 1.5, "b": 2.0, "c": -3.0}
    assert lists == {"h": [0.0, 1.0, 2.0, 3.0], "g": [7.0]}


def test_zero_fraction_is_exact_for_l1_prox(tmp_path):
    """The proximal step leaves exact zeros; the summary's fraction counts them exactly."""
    from tests.helpers.runs import run_config

    summary = run_config(tmp_path, ["+experiment=d2l_synthetic", "regularizer=l1_prox",
                                    "regularizer.strength=3", "model.init_std=0.1",
                                    "trainer.max_epochs=20"])
    state = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]
    weight = state["model.layers.0.weight"]
    zeros = (weight == 0).sum().item()
    assert zeros > 0
    # the same count (float32 mean: to 1e-7, far below one weight in 200)
    assert summary["weight_zero_frac"] == pytest.approx(zeros / weight.numel(), abs=1e-7)
