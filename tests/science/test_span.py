"""The span / null-space split of the first layer's weight, against an independent basis
(scipy.linalg.orth, an SVD in float64) of the training inputs the run actually used, read back
from summary.json, history.csv, TensorBoard's own event reader and the saved checkpoint.
Tolerance rel 1e-5: the split is computed in float32 (the weights' dtype), whose products over
d <= 784 terms round at about sqrt(d) * eps32 ~ 2e-6 relative."""

import csv
import json

import numpy as np
import pytest
import scipy.linalg
import torch

from tests.helpers.runs import compose_config, run_config
from tests.helpers.tb import curve, read_events
from wdbench.data.synthetic import make_synthetic
from wdbench.metrics.span import InputSpan
from wdbench.stacked.grid import Job
from wdbench.stacked.run import run_stack

REL = 1e-5


def reference_split(inputs, weight) -> tuple[float, float]:
    """||W P||, ||W (I - P)|| with P the projector on range(X^T), all in float64 numpy."""
    x = np.asarray(inputs, dtype=np.float64).reshape(len(inputs), -1)
    basis = scipy.linalg.orth(x.T)  # orthonormal basis of the row space of X
    w = np.asarray(weight, dtype=np.float64).reshape(-1, x.shape[1])
    inside = w @ basis @ basis.T
    return float(np.linalg.norm(inside)), float(np.linalg.norm(w - inside))


@pytest.mark.parametrize("rows,dim", [(20, 200), (150, 100), (400, 100), (300, 60)])
def test_split_matches_an_independent_basis(rows, dim):
    """n < d (null space of d - n), d < n with a rank-deficient X (every input column repeated,
    so rank d/2 and the complement is projected on), and a full-rank X (no null part)."""
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(rows, dim, generator=gen)
    if dim == 100:
        x = torch.cat([x[:, : dim // 2], x[:, : dim // 2]], dim=1)
    weight = torch.randn(3, 7, dim, generator=gen)  # a stack of 3 members
    span = InputSpan(x)
    inside, outside = span.split(weight)
    for member in range(3):
        want_in, want_out = reference_split(x.numpy(), weight[member].numpy())
        assert inside[member].item() == pytest.approx(want_in, rel=REL)
        assert outside[member].item() == pytest.approx(want_out, rel=REL, abs=1e-5)
        # A single weight gives the same pair but for rounding: the same products, blocked
        # otherwise in a stack and split otherwise over threads (measured 1.1e-7 relative).
        one_in, one_out = span.split(weight[member])
        assert (one_in.item(), one_out.item()) == pytest.approx(
            (inside[member].item(), outside[member].item()), rel=1e-6)
    expected_rank = {200: 20, 100: 50, 60: 60}[dim]
    assert span.rank == expected_rank
    if rows == 300:
        assert outside.abs().max().item() == 0


def test_run_reports_the_split_of_the_fold_it_trained_on(tmp_path):
    """An MLP on fold 2 of 5 of the lecture's data: the basis must be that of the 16 training
    rows actually used, not of all 20; the split is of the first layer's weight."""
    overrides = ["+experiment=d2l_synthetic", "model=mlp", "model.hidden=[16]", "data.folds=5",
                 "data.fold=2", "data.batch_size=4", "regularizer.strength=1.0",
                 "trainer.max_epochs=3", "threads=1"]
    summary = run_config(tmp_path, overrides)
    state = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]
    first = state["model.layers.0.weight"]
    used = make_synthetic(train_size=20, test_size=100, num_inputs=200, folds=5, fold=2,
                          seed=0).splits.train_x
    want_in, want_out = reference_split(used.numpy(), first.numpy())
    assert summary["weight_l2_span"] == pytest.approx(want_in, rel=REL)
    assert summary["weight_l2_null"] == pytest.approx(want_out, rel=REL)
    all_rows = make_synthetic(train_size=20, test_size=100, num_inputs=200, seed=0).splits.train_x
    assert abs(reference_split(all_rows.numpy(), first.numpy())[1] - want_out) > 1e-3 * want_out
    with open(tmp_path / "history.csv") as f:
        rows = list(csv.DictReader(f))
    events = read_events(tmp_path)
    for tag in ("weights/l2_span", "weights/l2_null"):
        from_csv = [float(r[tag]) for r in rows]
        assert len(from_csv) == 4  # epoch 0 and three epochs
        assert curve(events, tag) == pytest.approx(from_csv, rel=1e-6)
    assert json.loads((tmp_path / "summary.json").read_text())["weight_l2_null"] == pytest.approx(
        float(rows[-1]["weights/l2_null"]))


def test_stacked_members_report_their_own_split(tmp_path):
    """A stacked grid (weights (M, out, in)) gives each member the split of its ordinary run."""
    base = ["data.train_size=12", "data.test_size=20", "data.num_inputs=30", "data.batch_size=4",
            "model=mlp", "model.hidden=[8]", "regularizer=l2", "trainer.max_epochs=2",
            "optimizer.lr=0.01", "threads=1"]
    overrides = [[*base, f"regularizer.strength={s}"] for s in (0.0, 3.0)]
    ordinary = [run_config(tmp_path / f"ordinary{i}", o) for i, o in enumerate(overrides)]
    jobs = [Job(compose_config(o), tmp_path / f"stacked{i}", o) for i, o in enumerate(overrides)]
    stacked = run_stack(jobs)
    for one, member in zip(ordinary, stacked):
        for key in ("weight_l2_span", "weight_l2_null"):
            assert member[key] == pytest.approx(one[key], rel=1e-4)
    assert stacked[1]["weight_l2_null"] < 0.99 * stacked[0]["weight_l2_null"]


def test_fashion_mnist_basis_is_of_the_preprocessed_subset(tmp_path, needs_fashion_mnist):
    """Softmax regression on 300 standardised images (d = 784 > n): the split in summary.json
    against scipy's basis of the data module's own training features."""
    from wdbench.training.train import build

    overrides = ["data=fashion_mnist", "data.train_size=300", "data.val_size=100",
                 "data.batch_size=100", "trainer.max_epochs=1", "threads=1"]
    summary = run_config(tmp_path, overrides)
    data = build(compose_config(overrides).data, seed=0)
    state = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]
    want_in, want_out = reference_split(data.splits.train_x.numpy(),
                                        state["model.layers.0.weight"].numpy())
    assert summary["weight_l2_span"] == pytest.approx(want_in, rel=REL)
    assert summary["weight_l2_null"] == pytest.approx(want_out, rel=REL)


def test_span_rows_caps_the_training_set_size(tmp_path):
    """More training rows than metrics.span_rows: no split, no basis built, nothing logged."""
    summary = run_config(tmp_path, ["+experiment=d2l_synthetic", "trainer.max_epochs=1",
                                    "metrics.span_rows=19", "threads=1"])
    assert "weight_l2_span" not in summary and "weight_l2_null" not in summary
    with open(tmp_path / "history.csv") as f:
        assert "weights/l2_null" not in next(csv.reader(f))


@pytest.mark.parametrize("value", [0, -5, "many"])
def test_bad_span_rows_is_one_clear_error(value):
    from wdbench.config.validate import check_run_settings
    from wdbench.errors import ConfigError

    with pytest.raises(ConfigError, match="metrics.span_rows"):
        check_run_settings(compose_config([f"metrics.span_rows={value}"]))
