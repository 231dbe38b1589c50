"""`python -m wdbench +experiment=ridge_optimum` (as README shows it) against closed forms.

1. Converged runs land on the exact ridge solution of the same objective (mean squared error
   / 2 + (lambda/2)||w||^2, bias unpenalised), solved in float64 numpy on the run's own training
   data. Tolerance 5e-6 absolute per weight: float32 gradient descent stalls at about
   kappa * eps32 * ||w|| relative to the solution, kappa = L/mu <= 5.3 / 0.0625 = 85 on this
   grid, eps32 = 6e-8, ||w|| ~ 1.
2. lambda* = d sigma^2 / (n ||w*||^2) = 0.25 here (Dobriban & Wager 2018; Nakkiran et al. 2021)
   beats lambda*/4 and 4 lambda* in the risk averaged over the 5 seeds. The risk is the exact
   expected test loss of the trained weights, (sigma^2 + ||w - w*||^2 + (b - b*)^2) / 2 for
   x ~ N(0, I); the closed-form expectation gives about 0.32 against 0.37-0.38, far apart
   against the seed-to-seed spread of the paired differences.
"""

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.helpers.runs import compose_config, run_main
from wdbench.data.synthetic import make_synthetic
from wdbench.report.ridge import expected_risk, optimal_strength, ridge_fit


def trained_runs(sweep: Path) -> list[tuple[float, int, Path]]:
    runs = []
    for summary in sorted(sweep.glob("*/summary.json")):
        config = json.loads(summary.read_text())
        assert config["status"] == "completed"
        overrides = dict(o.split("=", 1) for o in config["overrides"])
        runs.append((float(overrides["regularizer.strength"]), int(overrides["seed"]),
                     summary.parent))
    return runs


def checkpoint_fit(run_dir: Path) -> tuple[np.ndarray, float]:
    state = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]
    return (state["model.layers.0.weight"].double().numpy().reshape(-1),
            state["model.layers.0.bias"].item())


@pytest.mark.slow
def test_ridge_optimum_preset_reaches_closed_form_and_lambda_star_wins(tmp_path):
    result = run_main(["+experiment=ridge_optimum", "threads=1", "hydra.sweep.dir=sweep"],
                      cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    data = compose_config(["+experiment=ridge_optimum"]).data
    truth_norm = data.true_weight * math.sqrt(data.num_inputs)
    assert truth_norm == pytest.approx(1.0)
    star = optimal_strength(data.num_inputs, data.train_size, data.noise_std, truth_norm)
    assert star == pytest.approx(0.25)
    risks: dict[float, list[float]] = {}
    runs = trained_runs(tmp_path / "sweep")
    assert len(runs) == 25
    for strength, seed, run_dir in runs:
        splits = make_synthetic(batch_size=data.batch_size, train_size=data.train_size,
                                test_size=data.test_size, num_inputs=data.num_inputs,
                                noise_std=data.noise_std, true_weight=data.true_weight,
                                seed=seed).splits
        weight, bias = checkpoint_fit(run_dir)
        exact_w, exact_b = ridge_fit(splits.train_x.numpy(), splits.train_y.numpy(), strength)
        np.testing.assert_allclose(weight, exact_w, rtol=0, atol=5e-6)
        assert bias == pytest.approx(exact_b, abs=5e-6)
        truth = np.full(data.num_inputs, data.true_weight)
        risks.setdefault(strength, []).append(
            expected_risk(weight, bias, truth, data.true_bias, data.noise_std))
    mean = {strength: float(np.mean(values)) for strength, values in risks.items()}
    assert mean[star] < mean[star / 4] and mean[star] < mean[4 * star]
    assert min(mean, key=mean.get) == star
