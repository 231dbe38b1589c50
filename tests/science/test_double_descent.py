"""`+experiment=double_descent` on part of its grid (n = 100, 200, 400; lambda = 0 and
lambda*(n) = d sigma^2 / (n ||w*||^2) = 50/n), trained as a stacked sweep from the command
line, against the closed forms of wdbench/report/ridge.py on the same training data.

Claims (Nakkiran et al. 2021, Fig. 1; Hastie et al. 2022 for the minimum-norm peak):
- at lambda = 0 the minimum-norm risk peaks at n = d: at n = 200 it is over 10 times that at
  n = 100 and n = 400;
- at lambda*(n) the risk falls with n, and the trained runs are the closed-form solutions;
- at lambda = 0 and n far from d gradient descent converges to the minimum-norm fit, up to the
  small init's part outside the span of the inputs, which gradient descent never moves:
  N(0, 0.001^2) weights in 100 such directions, ||.|| about 0.01, hence a tolerance of 0.03.
Tolerance for converged lambda > 0: 1e-4 in ||w - w_closed|| (float32 gradient descent stalls
at about kappa * eps32 * ||w||, kappa <= 11 / 0.125 ~ 90, eps32 = 6e-8, ||w|| ~ 1).
"""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from tests.helpers.runs import run_main
from wdbench.data.synthetic import make_synthetic
from wdbench.report.ridge import expected_risk, ridge_fit

SIZES = (100, 200, 400)


def fitted(run_dir: Path):
    """(n, lambda, trained risk, closed-form risk, ||w - w_closed||) of one run."""
    config = OmegaConf.load(run_dir / ".hydra" / "config.yaml")
    data, strength = config.data, float(config.regularizer.strength)
    state = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]
    weight = state["model.layers.0.weight"].double().numpy().reshape(-1)
    bias = state["model.layers.0.bias"].item()
    splits = make_synthetic(batch_size=data.batch_size, train_size=data.train_size, test_size=1,
                            num_inputs=data.num_inputs, noise_std=data.noise_std,
                            true_weight=data.true_weight, seed=config.seed).splits
    exact_w, exact_b = ridge_fit(splits.train_x.numpy(), splits.train_y.numpy(), strength)
    truth = np.full(data.num_inputs, data.true_weight)
    risk = expected_risk(weight, bias, truth, data.true_bias, data.noise_std)
    closed = expected_risk(exact_w, exact_b, truth, data.true_bias, data.noise_std)
    return data.train_size, strength, risk, closed, float(np.linalg.norm(weight - exact_w))


@pytest.mark.slow
def test_double_descent_peaks_at_n_equals_d_and_tuned_ridge_does_not(tmp_path):
    result = run_main(["+experiment=double_descent", "data.train_size=100,200,400",
                       "regularizer.strength=0,0.125,0.25,0.5", "seed=0", "threads=1",
                       "hydra.sweep.dir=sweep"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    runs = {}
    for summary in (tmp_path / "sweep").glob("*/summary.json"):
        assert json.loads(summary.read_text())["stacked"]["members"] == 4
        n, strength, *rest = fitted(summary.parent)
        runs[(n, strength)] = rest
    assert len(runs) == 12
    min_norm = {n: runs[(n, 0.0)][1] for n in SIZES}
    assert min_norm[200] > 10 * max(min_norm[100], min_norm[400])
    for n in (100, 400):
        risk, closed, distance = runs[(n, 0.0)]
        assert distance < 0.03
        assert risk == pytest.approx(closed, rel=1e-3)
    tuned = {n: runs[(n, 50 / n)] for n in SIZES}
    for risk, closed, distance in tuned.values():
        assert distance < 1e-4
    assert tuned[100][0] > tuned[200][0] > tuned[400][0]
