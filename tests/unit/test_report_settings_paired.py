"""Setting against setting: each setting's validation choice against the best setting's,
paired by seed, on made-up runs whose difference and interval are worked out by hand."""

import math

import pandas as pd

from wdbench.report.aggregate import aggregate, averaged_metrics
from wdbench.report.settings_paired import compare, markdown_table

# Student's t quantile t_{0.975, 2} from printed tables: 3 seeds give 2 degrees of freedom.
T_975_2DF = 4.302652729911275
SETTINGS, KNOBS = ["optimizer"], ["regularizer.strength"]

# (optimizer, strength): val_loss and test_loss of seeds 0, 1, 2. Adam's λ = 0.01 wins on
# validation; its λ = 0.1 would win on test but must not be the one paired. AdamW's λ = 10
# has the lowest validation loss of all: it is the reference.
SEED_VALUES = {
    ("adam", 0.0): ([0.80, 0.82, 0.81], [0.80, 0.81, 0.79]),
    ("adam", 0.01): ([0.66, 0.69, 0.65], [0.68, 0.70, 0.64]),
    ("adam", 0.1): ([0.70, 0.72, 0.71], [0.50, 0.50, 0.50]),
    ("adamw", 0.0): ([0.79, 0.80, 0.80], [0.80, 0.80, 0.80]),
    ("adamw", 10.0): ([0.60, 0.62, 0.61], [0.57, 0.64, 0.58]),
}


def made_up_runs() -> pd.DataFrame:
    rows = []
    for (optimizer, strength), (val, test) in SEED_VALUES.items():
        for seed in range(3):
            row = {m: math.nan for m in averaged_metrics()}
            row.update({"optimizer": optimizer, "regularizer.strength": strength, "seed": seed,
                        "status": "completed", "val_loss": val[seed], "test_loss": test[seed]})
            rows.append(row)
    return pd.DataFrame(rows)


def compared() -> pd.DataFrame:
    runs = made_up_runs()
    return compare(runs, aggregate(runs, SETTINGS + KNOBS), SETTINGS, KNOBS, "val_loss")


def test_the_choices_are_paired_by_seed_with_students_t_interval():
    """AdamW λ = 10 minus Adam λ = 0.01 in test loss, seed by seed: d = (-0.11, -0.06, -0.06),
    mean -0.07667, sd 0.028868, half-width 4.3027 · 0.028868 / sqrt(3) = 0.071711.
    Tolerance 1e-9: the sums of three floats."""
    test = compared().set_index("metric").loc["test_loss"]
    assert (test["setting"], test["chosen"]) == ("optimizer=adam", "strength=0.01")
    assert (test["reference"], test["reference chosen"]) == ("optimizer=adamw", "strength=10")
    half = T_975_2DF * 0.028867513459481 / math.sqrt(3)
    assert math.isclose(test["difference"], -0.23 / 3, abs_tol=1e-9)
    assert math.isclose(test["ci_low"], -0.23 / 3 - half, abs_tol=1e-9)
    assert math.isclose(test["ci_high"], -0.23 / 3 + half, abs_tol=1e-9)
    assert test["seeds"] == 3


def test_the_validation_difference_is_reported_beside_it():
    """val_loss: d = (-0.06, -0.07, -0.04), mean -0.05667."""
    val = compared().set_index("metric").loc["val_loss"]
    assert math.isclose(val["difference"], -0.17 / 3, abs_tol=1e-9)
    assert val["ci_low"] < val["difference"] < val["ci_high"] < 0


def test_one_setting_gives_no_comparison():
    runs = made_up_runs()
    runs = runs[runs["optimizer"] == "adam"]
    table = aggregate(runs, SETTINGS + KNOBS)
    assert compare(runs, table, SETTINGS, KNOBS, "val_loss").empty
    assert compare(runs, table, [], KNOBS, "val_loss").empty


def test_the_markdown_row_names_both_choices_and_the_interval():
    text = markdown_table(compared())
    assert "| optimizer=adam | strength=0.01 | optimizer=adamw | strength=10 | test_loss | " \
           "-0.0767 [-0.1484, -0.004956] | 3 |" in text
