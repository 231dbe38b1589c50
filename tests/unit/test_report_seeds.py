"""The seed statistics of every report: interval coverage measured on simulated sweeps with a
known mean, the paired difference against an independent formula, the edge warning."""

import math

import numpy as np
import pandas as pd
from scipy import stats

from wdbench.metrics.catalog import bounds_of
from wdbench.report.seeds import (
    MIN_BOOTSTRAP,
    edge_warning,
    mean_interval,
    paired_difference,
)

TRUE_MEAN, SEED_STD = 0.5, 0.1


def coverage(seeds: int, trials: int, rng) -> tuple[float, set]:
    hits, methods = 0, set()
    for _ in range(trials):
        low, high, method = mean_interval(rng.normal(TRUE_MEAN, SEED_STD, seeds).tolist())
        hits += low <= TRUE_MEAN <= high
        methods.add(method)
    return hits / trials, methods


def test_three_seeds_cover_the_true_mean_95_percent_of_the_time():
    """1,000 simulated configurations of 3 normal seeds each. Student's t interval is exact
    for normal data, so its coverage is Binomial(1000, 0.95)/1000: standard deviation
    sqrt(0.95 * 0.05 / 1000) = 0.0069; the tolerance 0.025 is 3.6 of them."""
    rate, methods = coverage(3, 1000, np.random.default_rng(1))
    assert methods == {"t"}
    assert abs(rate - 0.95) < 0.025, rate


def test_bootstrap_from_twenty_seeds_covers_about_95_percent():
    """200 simulated configurations of MIN_BOOTSTRAP (20) normal seeds, scipy's BCa bootstrap.
    Binomial sd sqrt(0.95 * 0.05 / 200) = 0.015; BCa runs a little short at small n (0.94 in
    300 such configurations, 0.90 at 10 seeds), so the tolerance is 0.05 (1% + 2.6 sd)."""
    rate, methods = coverage(MIN_BOOTSTRAP, 200, np.random.default_rng(2))
    assert methods == {"bootstrap"}
    assert abs(rate - 0.95) < 0.05, rate


def test_bootstrap_from_three_seeds_is_too_narrow():
    """Why few seeds get Student's t: a bootstrap interval of 3 values lies inside their range,
    which holds the true mean with probability 1 - 2 * 0.5**3 = 0.75 at most."""
    rng = np.random.default_rng(3)
    hits = 0
    for _ in range(200):
        x = rng.normal(TRUE_MEAN, SEED_STD, 3)
        result = stats.bootstrap((x,), np.mean, method="BCa", n_resamples=500,
                                 rng=np.random.default_rng(0))
        interval = result.confidence_interval
        hits += interval.low <= TRUE_MEAN <= interval.high
    assert hits / 200 < 0.85


def test_one_seed_has_no_interval_and_equal_seeds_a_point():
    assert all(math.isnan(v) for v in mean_interval([0.3])[:2])
    assert mean_interval([0.3, 0.3, 0.3])[:2] == (0.3, 0.3)


def test_paired_difference_is_the_t_interval_of_the_per_seed_differences():
    """Independent formula: mean(d) ± t_{0.975, n-1} · std(d) / sqrt(n), paired by seed; a
    seed only one side has is left out."""
    chosen = pd.Series([0.50, 0.52, 0.47, 0.61], index=[0, 1, 2, 9])
    other = pd.Series([0.55, 0.60, 0.50], index=[0, 1, 2])
    mean, low, high, seeds = paired_difference(chosen, other)
    d = np.array([-0.05, -0.08, -0.03])
    half = stats.t.ppf(0.975, 2) * d.std(ddof=1) / math.sqrt(3)
    assert seeds == 3
    assert math.isclose(mean, d.mean(), rel_tol=1e-12)
    assert math.isclose(low, d.mean() - half, rel_tol=1e-9)
    assert math.isclose(high, d.mean() + half, rel_tol=1e-9)


def test_edge_warning_names_the_edge_but_not_a_lambda_of_zero():
    grid = [0, 1e-3, 1e-2, 1e-1]
    assert "upper edge" in edge_warning(1e-1, grid)
    assert edge_warning(1e-2, grid) == ""
    assert edge_warning(0, grid) == ""  # no smaller strength to try: an answer, not a bound
    assert "lower edge" in edge_warning(1e-3, [1e-3, 1e-2, 1e-1])


def test_two_seeds_give_no_interval():
    """Student's t from 2 values is mean ± 12.7 · |x1 - x2| / 2: for test losses 0.3 and 1.2,
    [-5.0, 6.5]; the report says there is no interval instead."""
    assert stats.t.ppf(0.975, 1) > 12.7
    low, high, method = mean_interval([0.3, 1.2], bounds_of("test_loss"))
    assert math.isnan(low) and math.isnan(high) and method == "too few"


def test_an_interval_never_leaves_what_the_metric_can_be():
    """Ground truth: Student's t by its formula, then cut to [0, inf) for a loss and [0, 1] for
    an accuracy; the uncut side keeps the formula's value (rel 1e-9: float rounding)."""
    losses, accuracies = [0.01, 0.02, 2.0], [0.99, 1.0, 0.9]
    for values, metric in ((losses, "test_loss"), (accuracies, "test_acc")):
        x = np.array(values)
        half = stats.t.ppf(0.975, 2) * x.std(ddof=1) / math.sqrt(3)
        low, high, method = mean_interval(values, bounds_of(metric))
        lowest, highest = bounds_of(metric)
        assert method == "t" and lowest <= low < high <= highest
        assert math.isclose(low, max(x.mean() - half, lowest), rel_tol=1e-9, abs_tol=0)
        assert math.isclose(high, min(x.mean() + half, highest), rel_tol=1e-9)
    assert mean_interval(losses, bounds_of("test_loss"))[0] == 0.0  # t alone: below 0
    assert mean_interval(accuracies, bounds_of("test_acc"))[1] == 1.0  # t alone: above 1
