"""Where weight decay acts, against closed forms, through the real training path (Hydra config,
data, Lightning Trainer, history.csv). On the lecture's task (20 examples, 200 inputs) a linear
model's data gradients lie in the span of the 20 training inputs, so the weight's part
orthogonal to it (`weights/l2_null`) changes only through the regulariser (Krogh & Hertz 1991):

- plain SGD with l2 or weight_decay: w_null <- (1 - eta_t * lambda) w_null each step, so after
  the steps s = 1..t it is prod_s (1 - eta_s * lambda) times its value at epoch 0 (the
  lecture's update rule, section 3);
- lambda = 0: it does not change;
- SGD with momentum beta (torch's: v_1 = g_1, v_{s+1} = beta v_s + g_{s+1}, w <- w - eta v),
  where in the null space g = lambda w: a two-term linear recurrence, the same scalar for every
  null direction since v starts at 0;
- decoupled with scale_by_lr=false: w <- (1 - lambda) w each step, so (1 - lambda)^t.

Tolerance: rtol 1e-4. Training runs in float32: each step's multiplication rounds at about
eps32 = 6e-8 relative, and rounding of the data gradient leaks about eps32 * eta * ||g|| into the
null space; over t <= 200 steps that accumulates to at most a few t * eps32 ~ 1e-5 relative, and
the measured split itself (float32 products with a float64-built basis) adds about 1e-6.
"""

import csv
import math

import pytest

from tests.helpers.runs import run_config

LECTURE = ["+experiment=d2l_synthetic", "threads=1"]  # batch 5 of 20: 4 steps per epoch
STEPS_PER_EPOCH = 4
EPOCHS = 40
LR = 0.003
RTOL = 1e-4


def null_ratios(run_dir) -> tuple[list[int], list[float]]:
    with open(run_dir / "history.csv") as f:
        rows = list(csv.DictReader(f))
    first = float(rows[0]["weights/l2_null"])
    return [int(r["epoch"]) for r in rows], [float(r["weights/l2_null"]) / first for r in rows]


def plain_factors(lrs_per_epoch: list[float], strength: float) -> list[float]:
    """prod (1 - eta_s * lambda) after each epoch, epoch 0 included (no step yet)."""
    factors = [1.0]
    for lr in lrs_per_epoch:
        factors.append(factors[-1] * (1 - lr * strength) ** STEPS_PER_EPOCH)
    return factors


def cosine_lrs(base: float, epochs: int) -> list[float]:
    """CosineAnnealingLR with eta_min = 0, T_max = epochs, stepped per epoch."""
    return [base * (1 + math.cos(math.pi * e / epochs)) / 2 for e in range(epochs)]


def step_lrs(base: float, epochs: int, step_size: int, gamma: float) -> list[float]:
    return [base * gamma ** (e // step_size) for e in range(epochs)]


def momentum_factors(lr: float, strength: float, beta: float, epochs: int) -> list[float]:
    """|c_t| with w_null(t) = c_t * w_null(0): v_1 = lambda w_0, v_{s+1} = beta v_s +
    lambda w_s, w_{s+1} = w_s - lr v_{s+1}; in float64."""
    weight, velocity, factors = 1.0, 0.0, [1.0]
    for step in range(1, epochs * STEPS_PER_EPOCH + 1):
        velocity = strength * weight if step == 1 else beta * velocity + strength * weight
        weight -= lr * velocity
        if step % STEPS_PER_EPOCH == 0:
            factors.append(abs(weight))
    return factors


def assert_matches(run_dir, expected: list[float]) -> None:
    epochs, measured = null_ratios(run_dir)
    assert epochs == list(range(len(expected)))
    for epoch, got, want in zip(epochs, measured, expected):
        assert got == pytest.approx(want, rel=RTOL), f"epoch {epoch}"


@pytest.mark.parametrize("kind", ["l2", "weight_decay"])
def test_plain_sgd_shrinks_null_part_by_one_minus_lr_lambda(tmp_path, kind):
    strength = 3.0
    run_config(tmp_path, [*LECTURE, f"regularizer={kind}", f"regularizer.strength={strength}",
                          f"trainer.max_epochs={EPOCHS}"])
    expected = plain_factors([LR] * EPOCHS, strength)
    assert expected[-1] < 0.3  # the decay is visible, not a rounding-level effect
    assert_matches(tmp_path, expected)


def test_null_part_unchanged_without_decay(tmp_path):
    run_config(tmp_path, [*LECTURE, "regularizer.strength=0", f"trainer.max_epochs={EPOCHS}"])
    assert_matches(tmp_path, [1.0] * (EPOCHS + 1))


@pytest.mark.parametrize("scheduler", ["cosine", "step"])
def test_null_part_follows_the_scheduled_lr(tmp_path, scheduler):
    strength = 5.0
    overrides = [*LECTURE, "regularizer=weight_decay", f"regularizer.strength={strength}",
                 f"scheduler={scheduler}", f"trainer.max_epochs={EPOCHS}"]
    if scheduler == "step":
        overrides += ["scheduler.step_size=10", "scheduler.gamma=0.5"]
        lrs = step_lrs(LR, EPOCHS, step_size=10, gamma=0.5)
    else:
        lrs = cosine_lrs(LR, EPOCHS)
    run_config(tmp_path, overrides)
    assert_matches(tmp_path, plain_factors(lrs, strength))


def test_momentum_follows_two_term_recurrence(tmp_path):
    """beta = 0.5: the recurrence's roots, r^2 - (1 + beta - lr*lambda) r + beta = 0, are real
    (0.98 and 0.51), so the factor decays without changing sign; with beta = 0.9 they are complex
    and the factor crosses zero, where a relative comparison says nothing."""
    strength, beta = 3.0, 0.5
    run_config(tmp_path, [*LECTURE, "regularizer=l2", f"regularizer.strength={strength}",
                          f"optimizer.momentum={beta}", f"trainer.max_epochs={EPOCHS}"])
    expected = momentum_factors(LR, strength, beta, EPOCHS)
    plain = plain_factors([LR] * EPOCHS, strength)
    assert abs(expected[-1] - plain[-1]) > 0.1 * plain[-1]  # momentum's law is told apart
    assert_matches(tmp_path, expected)


def test_decoupled_without_lr_scaling_gives_one_minus_lambda_power_t(tmp_path):
    strength = 0.01
    run_config(tmp_path, [*LECTURE, "regularizer=decoupled", f"regularizer.strength={strength}",
                          "regularizer.scale_by_lr=false", f"trainer.max_epochs={EPOCHS}"])
    expected = [(1 - strength) ** (STEPS_PER_EPOCH * e) for e in range(EPOCHS + 1)]
    assert_matches(tmp_path, expected)


def test_decay_following_the_schedule_shrinks_by_lr_squared_lambda_over_lr_max(tmp_path):
    """`follow_schedule=true` under cosine decay: λ_t = λ·lr_t/lr_max, so each step shrinks
    w_null by 1 − lr_t·λ_t = 1 − lr_t²·λ/LR exactly, and the logged decay per step is that
    rate (float64 in Python, so rel 1e-12)."""
    strength = 5.0
    run_config(tmp_path, [*LECTURE, "regularizer=decoupled", f"regularizer.strength={strength}",
                          "regularizer.follow_schedule=true", "scheduler=cosine",
                          f"trainer.max_epochs={EPOCHS}"])
    lrs = cosine_lrs(LR, EPOCHS)
    expected = plain_factors([lr * lr / LR for lr in lrs], strength)
    fixed = plain_factors(lrs, strength)
    assert expected[-1] > 1.2 * fixed[-1]  # told apart from the decay that ignores the schedule
    assert_matches(tmp_path, expected)
    with open(tmp_path / "history.csv") as f:
        logged = [float(r["optim/decay_per_step"]) for r in csv.DictReader(f) if r["epoch"] != "0"]
    assert logged == pytest.approx([lr * lr * strength / LR for lr in lrs], rel=1e-12)
