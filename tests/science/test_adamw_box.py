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
point, and cosine decay ends with lr near 0.

Both arms run as `python -m wdbench -m` sweeps and scripts/adamw_box.py compares them
(results/11_adamw_box is this with 3 seeds, constant lr, and n = 400, d = 200 too)."""

import csv

import pytest

from tests.helpers.runs import REPO, run_main, run_script

LAMBDA = 2.0
TASK = ["data.train_size=100", "data.batch_size=100", "data.num_inputs=20", "data.noise_std=1.0",
        "data.true_weight=0.5", "model=linear", "model.init_std=0.001", "optimizer.lr=0.01",
        "scheduler=cosine", "trainer.max_epochs=5000", "metrics.every_n_epochs=100000",
        "metrics.figure=false", "threads=1", f"regularizer.strength={LAMBDA}", "seed=0"]
ARMS = {"adamw": ["optimizer=adamw", "optimizer.betas=[0.9,0.99]", "regularizer=weight_decay"],
        "adam_l2": ["optimizer=adam", "regularizer=l2"]}


@pytest.fixture(scope="module")
def rows(tmp_path_factory) -> dict[str, dict]:
    """runs.csv of scripts/adamw_box.py over one sweep per arm, by the run's optimizer."""
    root = tmp_path_factory.mktemp("box")
    for arm, overrides in ARMS.items():
        result = run_main(["-m", *TASK, *overrides, f"hydra.sweep.dir={arm}"], cwd=root)
        assert result.returncode == 0, result.stderr[-3000:]
    report = run_script(REPO / "scripts" / "adamw_box.py",
                        [*(str(root / arm) for arm in ARMS), "--out", str(root / "out")])
    assert report.returncode == 0, report.stderr
    assert (root / "out" / "distance.png").stat().st_size > 10_000
    table = list(csv.DictReader((root / "out" / "runs.csv").read_text().splitlines()))
    return {row["arm"].split()[0]: {k: float(v) for k, v in row.items()
                                    if k not in ("arm", "status")} for row in table}


def test_full_batch_adamw_lands_on_the_box_constrained_least_squares(rows):
    adamw = rows["adamw"]
    assert 0.2 < adamw["binding_fraction"] < 0.8  # the box binds on some coordinates, not all
    assert adamw["max_abs_weight"] <= (1 / LAMBDA) * 1.01  # inside the box, to 1%
    assert adamw["box_distance"] < 0.1 * adamw["least_squares_to_box"]
    assert adamw["box_distance"] < 0.1 * adamw["box_to_ridge"]
    assert abs(adamw["loss_gap"]) < 5e-3 * adamw["box_loss"]


def test_adam_with_l2_in_the_loss_lands_on_ridge_instead(rows):
    adam_l2 = rows["adam"]
    assert adam_l2["ridge_distance"] < 1e-4  # a strongly convex problem: converged
    assert adam_l2["box_distance"] > 0.3
