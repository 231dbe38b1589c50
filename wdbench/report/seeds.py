"""Seed statistics of a report: a 95% interval for each configuration's mean over its seeds,
the chosen configuration's paired difference from the runner-up, and whether a choice lies at
an edge of its grid (then it is a bound, not an optimum)."""

import math

import numpy as np
import pandas as pd
from scipy import stats

from wdbench.metrics.catalog import UNBOUNDED, higher_is_better, test_metric_for

CONFIDENCE = 0.95
# A percentile-type bootstrap interval never leaves the range of the resampled values: with
# 3 seeds it covers the mean far less often than 95%, and BCa at 10 about 90% (measured in
# tests/unit/test_report_seeds.py).
# Below this many seeds the interval is Student's t, exact for normally distributed seeds.
MIN_BOOTSTRAP = 20
BOOTSTRAP_RESAMPLES = 2000


# Fewer seeds give no interval: Student's t from 2 values is mean ± 12.7 sd/sqrt(2), wider than
# every value the metric can take (a test loss of [-37, 244]).
MIN_INTERVAL = 3


def mean_interval(values, bounds: tuple[float, float] = UNBOUNDED) -> tuple[float, float, str]:
    """(low, high, method) of a 95% interval for the mean of `values`, inside `bounds`; NaN
    with fewer than MIN_INTERVAL finite values. method: "bootstrap" (scipy.stats.bootstrap,
    BCa), "t", "none" (one value) or "too few" (two). The interval is cut to `bounds` (what the
    metric can be): the true mean lies inside them, so the cut interval holds it whenever the
    whole one does (same coverage)."""
    x = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    if len(x) < MIN_INTERVAL:
        return math.nan, math.nan, "none" if len(x) < 2 else "too few"
    method = "bootstrap" if len(x) >= MIN_BOOTSTRAP else "t"
    if np.ptp(x) == 0:  # every seed the same: both methods give the point
        return float(x[0]), float(x[0]), method
    if method == "bootstrap":
        result = stats.bootstrap((x,), np.mean, confidence_level=CONFIDENCE, method="BCa",
                                 n_resamples=BOOTSTRAP_RESAMPLES, rng=np.random.default_rng(0))
        interval = result.confidence_interval
    else:
        interval = stats.ttest_1samp(x, 0.0).confidence_interval(CONFIDENCE)
    return max(float(interval.low), bounds[0]), min(float(interval.high), bounds[1]), method


def interval_text(low: float, high: float) -> str:
    return "–" if math.isnan(low) else f"[{low:.4g}, {high:.4g}]"


def matching(runs: pd.DataFrame, row, keys: list[str]) -> pd.DataFrame:
    """The runs of the configuration `row` (NaN matches NaN: a kind without the knob)."""
    mask = pd.Series(True, index=runs.index)
    for key in keys:
        value = row[key]
        same = runs[key].isna() if pd.isna(value) else runs[key] == value
        mask &= same
    return runs[mask]


def per_seed(runs: pd.DataFrame, metric: str) -> pd.Series:
    done = runs[runs["status"] == "completed"]
    values = pd.to_numeric(done[metric], errors="coerce")
    return values.groupby(done["seed"]).mean()


def paired_difference(first: pd.Series, second: pd.Series) -> tuple[float, float, float, int]:
    """(mean, low, high, seeds) of first - second over the seeds both have: seed s of two
    configurations shares its data subset and initial weights, so the pairs cancel that noise."""
    both = first.index.intersection(second.index)
    diff = (first[both] - second[both]).dropna()
    if diff.empty:
        return math.nan, math.nan, math.nan, 0
    low, high, _ = mean_interval(diff.tolist())
    return float(diff.mean()), low, high, len(diff)


def edge_warning(value, grid) -> str:
    """A warning when `value` is the smallest (but not 0) or largest (but not inf) value of its
    grid: lambda = 0 and radius = inf are no regularisation, the end of the admissible range."""
    grid = sorted(v for v in grid if not pd.isna(v))
    if len(grid) < 2 or pd.isna(value):
        return ""
    if value == grid[-1] and value != float("inf"):
        return f"⚠ at the upper edge of the grid ({value:g}): a lower bound, widen the grid"
    if value == grid[0] and value != 0:
        return f"⚠ at the lower edge of the grid ({value:g}): an upper bound, widen the grid"
    return ""


def runner_up_rows(runs, table, settings, knobs, select) -> pd.DataFrame:
    """Per setting: the runner-up on `select`, the chosen configuration's paired difference
    from it (on `select` and on the matching test metric) with its 95% interval, and a
    warning for every knob whose chosen value lies at an edge of its grid."""
    maximise = higher_is_better(select)
    test_metric = test_metric_for(select)
    keys = settings + knobs
    rows = []
    groups = table.groupby(settings, dropna=False, sort=True) if settings else [((), table)]
    for values, group in groups:
        values = values if isinstance(values, tuple) else (values,)
        row = dict(zip(settings, values))
        eligible = group[(group["finished"] == group["runs"]) & group[select].notna()]
        ranked = eligible.sort_values(select, ascending=not maximise)
        if ranked.empty:
            rows.append(row)
            continue
        chosen = ranked.iloc[0]
        warnings = [edge_warning(chosen[k], group[k].unique()) for k in knobs]
        row["warning"] = "; ".join(w for w in warnings if w)
        if len(ranked) > 1:
            second = ranked.iloc[1]
            row["runner-up"] = ", ".join(f"{k.rsplit('.', 1)[-1]}={second[k]:g}" for k in knobs
                                         if not pd.isna(second[k])) or "-"
            mine, theirs = matching(runs, chosen, keys), matching(runs, second, keys)
            for metric in (select, test_metric):
                mean, low, high, seeds = paired_difference(per_seed(mine, metric),
                                                           per_seed(theirs, metric))
                row[f"diff {metric}"], row[f"diff {metric} ci"] = mean, (low, high)
                row["paired seeds"] = seeds
        rows.append(row)
    return pd.DataFrame(rows)


def seed_means(runs: pd.DataFrame, keys: list[str], metrics: list[str]) -> pd.DataFrame:
    """One row per configuration (keys): the number of seeds, and each metric's mean with its
    95% interval over them (metric, metric_ci_low, metric_ci_high)."""
    rows = []
    for values, group in runs.groupby(keys, sort=True):
        row = dict(zip(keys, values if isinstance(values, tuple) else (values,)))
        row["seeds"] = len(group)
        for metric in metrics:
            series = group[metric].astype(float)
            row[metric] = series.mean()
            row[metric + "_ci_low"], row[metric + "_ci_high"], _ = mean_interval(series.tolist())
        rows.append(row)
    return pd.DataFrame(rows)
