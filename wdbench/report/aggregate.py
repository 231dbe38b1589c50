"""Group runs into configurations (everything but the seed and the fold), mean and std over
the repeats, and the lambda a validation set picks next to the one the test set would."""

import math

import pandas as pd

from wdbench.metrics.catalog import bounds_of, higher_is_better, placed, test_metric_for
from wdbench.report.collect import ABSENT
from wdbench.report.seeds import mean_interval

REPEAT_KEYS = ("seed", "data.fold")  # what varies between repeats of one configuration
IGNORED_KEYS = ("threads", "name")  # how a run was executed or filed, not what it is
AVERAGED = ("completed",)  # the runs whose metrics a configuration's mean takes
# The scores validation and test choose by; the choice table shows them in its own columns.
SCORES = ("test_acc", "test_loss", "val_loss", "val_acc")


def averaged_metrics() -> list[str]:
    """The metrics each configuration gets a mean, std and interval of, in column order."""
    return [m.key for m in placed("report")]


def table_metrics() -> list[str]:
    """The columns of the configurations table."""
    return [m.key for m in placed("report") if m.report_table]


def chosen_details() -> list[str]:
    """What the choice table shows of the configuration validation picked, beside its test
    score: the table's other metrics."""
    return [key for key in table_metrics() if key not in SCORES]


def varying_keys(runs: pd.DataFrame, config_keys: list[str]) -> list[str]:
    """Config keys whose value differs between the runs: what the sweep swept."""
    keys = []
    for key in config_keys:
        if key in REPEAT_KEYS or key in IGNORED_KEYS:
            continue
        present = runs[key][runs[key].astype(str) != ABSENT]  # a key added later splits nothing
        if present.astype(str).nunique(dropna=False) > 1:
            keys.append(key)
    return keys


# Kept first when naming settings: what a reader asks about before the tuning details.
# The regulariser and optimizer stay named where they vary, even when other keys would tell
# the settings apart (scale_by_lr=True says less than regularizer=decoupled).
ALWAYS_NAMED = ("regularizer", "optimizer")
NAMING_ORDER = ("regularizer", "optimizer", "model", "data", "data.train_size",
                "data.label_noise", "regularizer.exclude")


def distinct(runs: pd.DataFrame, keys: list[str]) -> int:
    return len(runs[keys].astype(str).drop_duplicates()) if keys else 1


def naming_keys(runs: pd.DataFrame, keys: list[str]) -> list[str]:
    """The fewest keys that still tell the settings apart: a key that follows from the others
    (model.hidden from model, trainer.max_epochs from data.train_size) is left out of the
    tables and plot labels; runs.csv keeps every key."""
    ordered = [k for k in NAMING_ORDER if k in keys] + [k for k in keys if k not in NAMING_ORDER]
    kept = list(ordered)
    for key in reversed(ordered):
        if key in ALWAYS_NAMED:
            continue
        rest = [k for k in kept if k != key]
        if distinct(runs, rest) == distinct(runs, kept):
            kept = rest
    return kept


def split_keys(runs: pd.DataFrame, config_keys: list[str], knobs: list[str]):
    """(setting keys, knob keys): a line in a plot is a setting, its x axis a knob."""
    varying = varying_keys(runs, config_keys)
    knobs = [k for k in knobs if k in varying]
    return naming_keys(runs, [k for k in varying if k not in knobs]), knobs


def label(row, keys: list[str]) -> str:
    return ", ".join(f"{k}={row[k]}" for k in keys) if keys else "all runs"


def aggregate(runs: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """One row per configuration: runs, finished runs, mean, std and a 95% interval for the
    mean of each metric over the finished ones (diverged and failed runs are counted, never
    averaged)."""
    rows = []
    grouped = runs.groupby(keys, dropna=False, sort=True) if keys else [((), runs)]
    for values, group in grouped:
        values = values if isinstance(values, tuple) else (values,)
        ok = group[group["status"].isin(AVERAGED)]
        row = dict(zip(keys, values))
        row["runs"] = len(group)
        row["finished"] = len(ok)
        for metric in averaged_metrics():
            series = pd.to_numeric(ok[metric], errors="coerce").dropna()
            row[metric] = series.mean() if len(series) else math.nan
            row[metric + "_std"] = series.std(ddof=1) if len(series) > 1 else math.nan
            low, high, method = mean_interval(series.tolist(), bounds_of(metric))
            row[metric + "_ci_low"], row[metric + "_ci_high"] = low, high
            row["ci_method"] = method if method != "none" else row.get("ci_method", "none")
        rows.append(row)
    return pd.DataFrame(rows)


def choose(table: pd.DataFrame, settings: list[str], knobs: list[str], select: str):
    """Per setting: the configuration the validation metric picks, and the one the test metric
    would pick (only configurations whose runs all finished can be picked)."""
    maximise = higher_is_better(select)
    test_metric = test_metric_for(select)
    rows = []
    groups = table.groupby(settings, dropna=False, sort=True) if settings else [((), table)]
    for values, group in groups:
        values = values if isinstance(values, tuple) else (values,)
        eligible = group[(group["finished"] == group["runs"]) & group[select].notna()]
        row = dict(zip(settings, values))
        if eligible.empty:
            row["chosen"] = "no validation metric" if group[select].isna().all() else "none"
            rows.append(row)
            continue
        on_val = eligible.loc[eligible[select].idxmax() if maximise else eligible[select].idxmin()]
        tested = group[group["finished"] == group["runs"]].dropna(subset=[test_metric])
        on_test = tested.loc[tested[test_metric].idxmax() if maximise
                             else tested[test_metric].idxmin()]
        row["chosen"] = knob_text(on_val, knobs)
        row[select] = on_val[select]
        row["test_acc"], row["test_loss"] = on_val["test_acc"], on_val["test_loss"]
        row.update({key: on_val[key] for key in chosen_details()})
        row["best on test"] = knob_text(on_test, knobs)
        row["best test_acc"] = on_test["test_acc"]
        row["best test_loss"] = on_test["test_loss"]
        rows.append(row)
    return pd.DataFrame(rows)


def knob_text(row, knobs: list[str]) -> str:
    """"strength=0.001": the short name of each tuned key and its value."""
    parts = [f"{k.rsplit('.', 1)[-1]}={row[k]:g}" for k in knobs if not pd.isna(row[k])]
    return ", ".join(parts) or "-"  # a kind without the knob (radius of l2) leaves it out
