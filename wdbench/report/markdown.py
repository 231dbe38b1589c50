"""Markdown tables of a report: per configuration, the lambda choice, the runs that failed."""

import math

import pandas as pd

from wdbench.metrics.catalog import by_key, test_metric_for
from wdbench.report.aggregate import chosen_details, table_metrics
from wdbench.report.seeds import interval_text


def header(key: str) -> str:
    return by_key(key).report_header


def number(value) -> str:
    if value is None:
        return "null"  # a config value left at null (data.train_size=null: all of it)
    if isinstance(value, float) and math.isnan(value):
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    if hasattr(value, "item"):  # numpy scalars from pandas
        return number(value.item())
    return str(value)


def mean_std(mean, std) -> str:
    if mean is None or math.isnan(mean):
        return "–"
    return f"{mean:.4g}" if std is None or math.isnan(std) else f"{mean:.4g} ± {std:.2g}"


def table(titles: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(titles) + " |", "|" + "---|" * len(titles)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def configurations(aggregated: pd.DataFrame, keys: list[str]) -> str:
    """Mean ± std over seeds/folds per configuration; metrics no run has are left out."""
    metrics = [m for m in table_metrics() if aggregated[m].notna().any()]
    titles = keys + ["finished/runs"] + [header(m) for m in metrics]
    rows = []
    for _, row in aggregated.iterrows():
        cells = [number(row[k]) for k in keys] + [f"{int(row['finished'])}/{int(row['runs'])}"]
        cells += [mean_std(row[m], row[m + "_std"]) + interval_cell(row, m) for m in metrics]
        rows.append(cells)
    return table(titles, rows)


def interval_cell(row, metric: str) -> str:
    if not by_key(metric).interval or math.isnan(row.get(metric + "_ci_low", math.nan)):
        return ""
    return " " + interval_text(row[metric + "_ci_low"], row[metric + "_ci_high"])


def interval_note(aggregated: pd.DataFrame) -> str:
    methods = set(aggregated.get("ci_method", pd.Series(dtype=str)).dropna()) - {"none"}
    how = {"t": "Student's t (fewer than 20 seeds, where a bootstrap interval is too narrow)",
           "bootstrap": "scipy.stats.bootstrap, BCa (20 or more seeds)"}
    few = ("2 seeds give no interval (Student's t from 2 values is wider than the range the "
           "metric can take): run 3 or more for one.")
    if not methods:
        return "One seed per configuration: no intervals."
    if methods == {"too few"}:
        return few
    note = ("[low, high]: a 95% confidence interval for the mean over seeds, by " +
            " and ".join(how[m] for m in sorted(methods - {"too few"})) +
            ", cut to what the metric can be (a loss ≥ 0, an accuracy in [0, 1]).")
    return note + (" Configurations with 2 seeds: no interval." if "too few" in methods else "")


def choices(chosen: pd.DataFrame, settings: list[str], select: str) -> str:
    details = chosen_details()
    columns = ["chosen", select, "test_acc", "test_loss", *details, "best on test",
               "best test_acc", "best test_loss"]
    columns = [c for c in columns if c in chosen and chosen[c].notna().any()]
    names = {"chosen": f"chosen on validation ({select})", select: header(select),
             "best on test": "best on test (for reference)",
             **{c: "its " + header(c) for c in ("test_acc", "test_loss", *details)}}
    titles = settings + [names.get(c, c.replace("_", " ")) for c in columns]
    rows = [[number(row[k]) for k in settings + columns] for _, row in chosen.iterrows()]
    return table(titles, rows)


def no_validation(metric: str) -> str:
    return (f"Nothing chosen: no run has a {metric} (these runs had no validation split); "
            "data.val_size=N or data.folds=K gives one.")


def present(value, missing: str) -> str:
    """A text cell; a column no row of this setting filled (pandas' NaN) reads `missing`."""
    return missing if value is None or (isinstance(value, float) and math.isnan(value)) \
        else str(value)


def differences(runner_up: pd.DataFrame, settings: list[str], select: str) -> str:
    """The chosen configuration against the runner-up on validation: their paired difference
    (chosen - runner-up) with its 95% interval, and the warnings next to each choice."""
    test_metric = test_metric_for(select)
    titles = settings + ["runner-up", f"chosen − runner-up: {header(select)} [95% CI]",
                         f"chosen − runner-up: {header(test_metric)} [95% CI]", "seeds",
                         "warning"]
    rows = []
    for _, row in runner_up.iterrows():
        cells = [number(row[k]) for k in settings] + [present(row.get("runner-up"), "–")]
        for metric in (select, test_metric):
            mean, ci = row.get(f"diff {metric}", math.nan), row.get(f"diff {metric} ci")
            text = "–" if mean is None or pd.isna(mean) else f"{mean:+.3g}"
            if isinstance(ci, tuple) and not math.isnan(ci[0]):
                text += " " + interval_text(*ci)
            cells.append(text)
        seeds = row.get("paired seeds")
        cells += ["–" if pd.isna(seeds) else str(int(seeds)), present(row.get("warning"), "")]
        rows.append(cells)
    return table(titles, rows)


def unfinished(runs: pd.DataFrame, root_of) -> str:
    """The runs that did not complete, each with why: never averaged into the tables."""
    bad = runs[runs["status"] != "completed"]
    if bad.empty:
        return "All runs completed."
    rows = [[root_of(row["run_dir"]), str(row["status"]), str(row.get("error") or "")]
            for _, row in bad.iterrows()]
    return table(["run", "status", "why"], rows)
