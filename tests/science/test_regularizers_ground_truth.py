"""Each kind reaches the solution an independent method gives for the same objective, through
the real training path (Hydra config, data, Lightning Trainer, checkpoint). Full-batch steps
on the lecture's synthetic regression; the loss is (1/2n)·||Xw + b - y||²."""

import csv
import math

import pytest
import torch
from sklearn.linear_model import ElasticNet, Lasso

from tests.helpers.runs import run_config
from wdbench.data.synthetic import make_synthetic

# The lecture's data (20 examples, 200 inputs), one full batch per epoch.
FULL_BATCH = ["data.batch_size=20", "optimizer.lr=0.09", "trainer.max_epochs=1000"]
LAMBDA = 3.0


def final_weights(run_dir):
    state = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]
    return (state["model.layers.0.weight"].double().reshape(-1),
            state["model.layers.0.bias"].double().reshape(()))


def ridge(x, y, strength: float, penalise_bias: bool):
    """argmin (1/2n)||Xw + b - y||² + (lambda/2)||w||² (+ (lambda/2)b²), in closed form."""
    x, y = x.double(), y.double().reshape(-1)
    n = len(x)
    if penalise_bias:
        design = torch.cat([x, torch.ones(n, 1, dtype=x.dtype)], dim=1)
        eye = torch.eye(design.shape[1], dtype=x.dtype)
        solution = torch.linalg.solve(design.T @ design / n + strength * eye, design.T @ y / n)
        return solution[:-1], solution[-1]
    x_mean, y_mean = x.mean(0), y.mean()  # the unpenalised bias absorbs the means
    xc, yc = x - x_mean, y - y_mean
    eye = torch.eye(x.shape[1], dtype=x.dtype)
    weight = torch.linalg.solve(xc.T @ xc / n + strength * eye, xc.T @ yc / n)
    return weight, y_mean - x_mean @ weight


def lecture_data():
    return make_synthetic(seed=0).splits


@pytest.mark.parametrize("exclude", ["[1d]", "[]"])
def test_l2_gradient_descent_reaches_closed_form_ridge(tmp_path, exclude):
    """exclude=[1d]: the bias is free; exclude=[]: the bias is penalised too, a different
    closed form, so this also shows what `exclude` does."""
    run_config(tmp_path, ["regularizer=l2", f"regularizer.strength={LAMBDA}",
                          f"regularizer.exclude={exclude}", *FULL_BATCH])
    weight, bias = final_weights(tmp_path)
    data = lecture_data()
    expected_w, expected_b = ridge(data.train_x, data.train_y, LAMBDA, exclude == "[]")
    _, other_b = ridge(data.train_x, data.train_y, LAMBDA, exclude != "[]")
    torch.testing.assert_close(weight, expected_w, rtol=0, atol=1e-7)
    torch.testing.assert_close(bias, expected_b, rtol=0, atol=1e-6)
    assert abs(bias - other_b) > 0.03  # the two closed forms are told apart


def test_norm_ball_with_the_ridge_radius_reaches_the_ridge_solution(tmp_path):
    """The lecture's Lagrange argument: the hard constraint ||w|| <= theta with theta the norm
    of the lambda-penalised solution has that same solution."""
    data = lecture_data()
    expected_w, expected_b = ridge(data.train_x, data.train_y, LAMBDA, penalise_bias=False)
    radius = expected_w.norm().item()
    run_config(tmp_path, ["regularizer=norm_ball", f"regularizer.radius={radius}", *FULL_BATCH])
    weight, bias = final_weights(tmp_path)
    torch.testing.assert_close(weight, expected_w, rtol=0, atol=1e-7)
    torch.testing.assert_close(bias, expected_b, rtol=0, atol=1e-6)
    assert weight.norm() <= radius * (1 + 1e-6)


# A lasso with a unique, well-conditioned solution: 100 examples, 20 inputs.
LASSO_DATA = ["data.num_inputs=20", "data.train_size=100", "data.batch_size=100",
              "optimizer.lr=0.3", "trainer.max_epochs=300"]
LASSO_LAMBDA = 0.01


def sklearn_lasso():
    """scikit-learn minimises (1/(2n))||y - Xw - b||² + alpha·||w||₁ with a free intercept:
    our objective with alpha = lambda."""
    data = make_synthetic(seed=0, num_inputs=20, train_size=100).splits
    model = Lasso(alpha=LASSO_LAMBDA, fit_intercept=True, tol=1e-12, max_iter=100_000)
    model.fit(data.train_x.double().numpy(), data.train_y.double().numpy().ravel())
    return torch.from_numpy(model.coef_), float(model.intercept_)


@pytest.mark.parametrize("schedule", [[], ["scheduler=cosine", "scheduler.eta_min=0.03"],
                                      ["scheduler=step", "scheduler.step_size=100",
                                       "scheduler.gamma=0.3"]], ids=["constant", "cosine", "step"])
def test_l1_prox_reaches_sklearn_lasso_with_exact_zeros(tmp_path, schedule):
    """Under a schedule the soft threshold must be the epoch's lr·lambda: with the base lr's
    threshold the fixed point would be the lasso of lambda·lr_0/lr_t, another solution."""
    run_config(tmp_path, ["regularizer=l1_prox", f"regularizer.strength={LASSO_LAMBDA}",
                          *LASSO_DATA, *schedule])
    weight, bias = final_weights(tmp_path)
    expected_w, expected_b = sklearn_lasso()
    assert 5 <= int((expected_w == 0).sum()) <= 15  # a lasso that selects
    assert torch.equal(weight == 0, expected_w == 0)  # the same support, exact zeros
    torch.testing.assert_close(weight, expected_w, rtol=0, atol=1e-7)
    assert math.isclose(bias.item(), expected_b, abs_tol=1e-7)


def test_l1_subgradient_reaches_the_lasso_without_exact_zeros(tmp_path):
    """The sign subgradient with a constant lr oscillates about 2·lr·lambda (0.006 here) around
    the lasso solution, more than its largest coefficient (0.0037). A cosine lr falling to 0
    shrinks the oscillation with the step: the final weights lie within 1e-4 of scikit-learn's
    lasso (measured 5e-5), a bound a zero or constant vector misses by 30 times; yet not one
    weight is exactly zero."""
    summary = run_config(tmp_path, ["regularizer=l1", f"regularizer.strength={LASSO_LAMBDA}",
                                    *LASSO_DATA, "scheduler=cosine", "scheduler.eta_min=0"])
    weight, _ = final_weights(tmp_path)
    expected_w, _ = sklearn_lasso()
    assert int((weight == 0).sum()) == 0 and summary["weight_zero_frac"] == 0
    assert expected_w.abs().max() > 30 * 1e-4
    torch.testing.assert_close(weight, expected_w, rtol=0, atol=1e-4)


SCHEDULES = {  # closed forms of the lr that epoch e (0-based) trains with, 5 epochs
    "cosine": lambda lr, e: lr * (1 + math.cos(math.pi * e / 5)) / 2,
    "step": lambda lr, e: lr * 0.1 ** (e // 2),
}


@pytest.mark.parametrize("schedule", sorted(SCHEDULES))
def test_logged_lr_and_decay_follow_the_schedule(tmp_path, schedule):
    lr, strength = 0.01, 0.5
    run_config(tmp_path, ["regularizer=decoupled", f"regularizer.strength={strength}",
                          f"scheduler={schedule}", "scheduler.step_size=2" if schedule == "step"
                          else "scheduler.eta_min=0", f"optimizer.lr={lr}",
                          "trainer.max_epochs=5"])
    with open(tmp_path / "history.csv") as f:
        rows = [row for row in csv.DictReader(f) if int(row["epoch"]) > 0]
    assert len(rows) == 5
    for row in rows:
        expected = SCHEDULES[schedule](lr, int(row["epoch"]) - 1)  # history epoch e is 1-based
        assert math.isclose(float(row["optim/lr"]), expected, rel_tol=1e-9)
        assert math.isclose(float(row["optim/decay_per_step"]), expected * strength, rel_tol=1e-9)


# The l1 part as strong as the lasso's above (lambda·rho = 0.01), the l2 part shrinking the
# weights by about a sixth: a wrong weighting of either part moves the solution visibly.
NET_LAMBDA, NET_RATIO = 0.2, 0.05


def sklearn_elastic_net(l1_ratio: float):
    """scikit-learn's ElasticNet minimises (1/(2n))||y - Xw - b||² + alpha·rho·||w||₁
    + (alpha/2)·(1 - rho)·||w||²: our objective with alpha = lambda, rho = l1_ratio."""
    data = make_synthetic(seed=0, num_inputs=20, train_size=100).splits
    model = ElasticNet(alpha=NET_LAMBDA, l1_ratio=l1_ratio, fit_intercept=True, tol=1e-12,
                       max_iter=100_000)
    model.fit(data.train_x.double().numpy(), data.train_y.double().numpy().ravel())
    return torch.from_numpy(model.coef_)


def test_elastic_net_reaches_sklearn_elastic_net(tmp_path):
    """0 < rho < 1, the sign subgradient under a cosine lr falling to 0 (as for l1 above):
    within 1e-4 of scikit-learn's ElasticNet. The lasso (rho = 1) and the ridge (rho -> 0) of
    the same lambda lie further away, so the mix itself is checked."""
    run_config(tmp_path, ["regularizer=elastic_net", f"regularizer.strength={NET_LAMBDA}",
                          f"regularizer.l1_ratio={NET_RATIO}", *LASSO_DATA, "scheduler=cosine",
                          "scheduler.eta_min=0"])
    weight, _ = final_weights(tmp_path)
    expected = sklearn_elastic_net(NET_RATIO)
    for other in (sklearn_elastic_net(1.0), sklearn_elastic_net(0.01)):
        assert (other - expected).abs().max() > 5e-4
    torch.testing.assert_close(weight, expected, rtol=0, atol=1e-4)
