"""Settings against each other (Adam + L2 against AdamW, say): each setting's configuration
chosen on validation against the best setting's, paired by seed, with a 95% interval. The
runner-up table compares two configurations of one setting; this one compares the settings."""

import math

import pandas as pd

from wdbench.metrics.catalog import higher_is_better, test_metric_for
from wdbench.report.aggregate import knob_text, label
from wdbench.report.markdown import table
from wdbench.report.seeds import interval_text, matching, paired_difference, per_seed

COLUMNS = ["select", "setting", "chosen", "reference", "reference chosen", "metric",
           "difference", "ci_low", "ci_high", "seeds"]


def validation_choice(group: pd.DataFrame, select: str):
    """The configuration of `group` (one setting's rows of the table) that `select` picks
    among those whose runs all finished; None when there is none."""
    eligible = group[(group["finished"] == group["runs"]) & group[select].notna()]
    if eligible.empty:
        return None
    best = eligible[select].idxmax() if higher_is_better(select) else eligible[select].idxmin()
    return eligible.loc[best]


def setting_choices(table, settings, select) -> list:
    """(setting label, chosen row) per setting with a choice, in the table's order."""
    choices = []
    for _, group in table.groupby(settings, dropna=False, sort=True):
        chosen = validation_choice(group, select)
        if chosen is not None:
            choices.append((label(chosen, settings), chosen))
    return choices


def compare(runs, table, settings, knobs, select) -> pd.DataFrame:
    """One row per other setting and metric (`select` and its test metric): reference − setting,
    where the reference is the setting whose choice scores best on `select`. Empty with fewer
    than two settings."""
    choices = setting_choices(table, settings, select) if settings else []
    if len(choices) < 2:
        return pd.DataFrame(columns=COLUMNS)
    test_metric = test_metric_for(select)
    pick = max if higher_is_better(select) else min
    reference_name, reference = pick(choices, key=lambda choice: choice[1][select])
    keys = settings + knobs
    rows = []
    for name, chosen in choices:
        if name == reference_name:
            continue
        for metric in (select, test_metric):
            mean, low, high, seeds = paired_difference(
                per_seed(matching(runs, reference, keys), metric),
                per_seed(matching(runs, chosen, keys), metric))
            rows.append(dict(zip(COLUMNS, [select, name, knob_text(chosen, knobs),
                                           reference_name, knob_text(reference, knobs), metric,
                                           mean, low, high, seeds])))
    return pd.DataFrame(rows, columns=COLUMNS)


def markdown_table(compared: pd.DataFrame) -> str:
    header = ["setting", "its choice", "reference (best on validation)", "its choice", "metric",
              "reference − setting [95% CI]", "seeds"]
    rows = []
    for _, row in compared.iterrows():
        text = "–" if pd.isna(row["difference"]) else f"{row['difference']:+.3g}"
        if not math.isnan(row["ci_low"]):
            text += " " + interval_text(row["ci_low"], row["ci_high"])
        rows.append([row["setting"], row["chosen"], row["reference"], row["reference chosen"],
                     row["metric"], text, str(int(row["seeds"]))])
    return table(header, rows)
