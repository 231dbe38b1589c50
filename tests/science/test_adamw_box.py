"""AdamW is a constrained optimiser (Xie & Li, ICML 2024, "Implicit bias of AdamW: ℓ∞ norm
constrained optimization"): full-batch AdamW with decoupled decay λ (torch's form, w <- w -
lr·λ·w) converges to a KKT point of min L(w) subject to ‖w‖∞ <= 1/λ. On least squares that point
is scipy's box-constrained solution (`lsq_linear`, bounds ±1/λ on the weights, none on the
undecayed bias), while Adam with λ/2·‖w‖² in the loss lands on ridge instead.

Settings: the synthetic regression with n = 100 rows, d = 20 inputs, every true weight 0.5,
noise 1 (so the unconstrained fit has coordinates on both sides of 1/λ), λ = 2 (box 0.5: about
half the coordinates bind), full batch, AdamW lr 0.01 with betas (0.9, 0.99) and cosine decay
to 0 over 5,000 steps. With β2 = 0.999 the second moment remembers the first large gradients
for thousands of steps and the interior coordinates crawl (0.067 from the box after 5,000 steps
against 0.0095 here). Tolerances: a tenth of the distance from the box solution to the least
squares fit (0.24) and to ridge (0.43); constant-lr AdamW oscillates by about lr around its
point, and cosine decay ends with lr near 0."""

import numpy as np
import pytest
import torch
from scipy.optimize import lsq_linear

from tests.helpers.runs import run_config
from wdbench.data.synthetic import make_synthetic

ROWS, INPUTS, LAMBDA = 100, 20, 2.0
DATA = {"train_size": ROWS, "batch_size": ROWS, "num_inputs": INPUTS, "noise_std": 1.0,
            "true_weight": 0.5, "test_size": 100}
TASK = [*(f"data.{key}={value}" for key, value in DATA.items()), "model=linear",
        "model.init_std=0.001", "optimizer.lr=0.01", "scheduler=cosine", "trainer.max_epochs=5000",
        "metrics.every_n_epochs=100000", "metrics.figure=false", "threads=1"]


def weights_and_bias(run_dir) -> np.ndarray:
    state = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]
    weight = next(v for k, v in state.items() if k.endswith("weight"))
    bias = next(v for k, v in state.items() if k.endswith("bias"))
    return np.r_[weight.flatten().double().numpy(), bias.double().numpy()]


@pytest.fixture(scope="module")
def problem():
    """The run's own training rows (same seed, same draw) with a column of ones for the bias."""
    splits = make_synthetic(**DATA, seed=0).splits
    design = np.hstack([splits.train_x.double().numpy(), np.ones((ROWS, 1))])
    return design, splits.train_y.double().numpy().ravel()


def box_solution(design, target) -> np.ndarray:
    bound = np.r_[np.full(INPUTS, 1 / LAMBDA), np.inf]
    return lsq_linear(design, target, bounds=(-bound, bound), tol=1e-12).x


def ridge_solution(design, target) -> np.ndarray:
    """argmin mean ½(ŷ - y)² + (λ/2)‖w‖², the bias free."""
    penalty = np.diag(np.r_[np.full(INPUTS, LAMBDA), 0.0])
    return np.linalg.solve(design.T @ design / ROWS + penalty, design.T @ target / ROWS)


def train_loss(design, target, params) -> float:
    return 0.5 * np.mean((design @ params - target) ** 2)


def test_full_batch_adamw_lands_on_the_box_constrained_least_squares(tmp_path, problem):
    design, target = problem
    box, ridge = box_solution(design, target), ridge_solution(design, target)
    least_squares = np.linalg.lstsq(design, target, rcond=None)[0]
    binding = np.isclose(np.abs(box[:INPUTS]), 1 / LAMBDA)
    assert 0.2 < binding.mean() < 0.8  # the box binds on some coordinates, not all

    summary = run_config(tmp_path / "adamw", [*TASK, "optimizer=adamw", "optimizer.betas=[0.9,0.99]",
                                              "regularizer=weight_decay",
                                              f"regularizer.strength={LAMBDA}"])
    assert summary["status"] == "completed"
    adamw = weights_and_bias(tmp_path / "adamw")
    assert np.abs(adamw[:INPUTS]).max() <= (1 / LAMBDA) * 1.01  # inside the box, to 1%
    assert np.abs(adamw - box).max() < 0.1 * np.abs(least_squares - box).max()
    assert np.abs(adamw - box).max() < 0.1 * np.abs(ridge - box).max()
    assert train_loss(design, target, adamw) == pytest.approx(
        train_loss(design, target, box), rel=5e-3)


def test_adam_with_l2_in_the_loss_lands_on_ridge_instead(tmp_path, problem):
    design, target = problem
    summary = run_config(tmp_path / "adam_l2", [*TASK, "optimizer=adam", "regularizer=l2",
                                                f"regularizer.strength={LAMBDA}"])
    assert summary["status"] == "completed"
    adam_l2 = weights_and_bias(tmp_path / "adam_l2")
    ridge, box = ridge_solution(design, target), box_solution(design, target)
    assert np.abs(adam_l2 - ridge).max() < 1e-4  # a strongly convex problem: converged
    assert np.abs(adam_l2 - box).max() > 0.3
