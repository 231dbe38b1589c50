"""The slope of log λ* against log lr each pairing's fixed point predicts, read from the runs'
own columns: what report 9 puts beside each measured slope."""

import math

import pandas as pd
import pytest

from wdbench.report.predictions import PLANE, predicted_slope


def runs(**columns) -> pd.DataFrame:
    return pd.DataFrame({key: [value] * 2 for key, value in columns.items()})


@pytest.mark.parametrize(("columns", "slope"), [
    ({"regularizer": "l2", "optimizer": "sgd"}, 0.0),
    ({"regularizer": "l2", "optimizer": "adam"}, 0.0),
    ({"regularizer": "weight_decay", "optimizer": "adamw"}, 0.0),
    ({"regularizer": "decoupled", "optimizer": "sgd", "regularizer.scale_by_lr": True}, 0.0),
    ({"regularizer": "decoupled", "optimizer": "adam", "regularizer.scale_by_lr": True}, 0.0),
    ({"regularizer": "decoupled", "optimizer": "adam", "regularizer.scale_by_lr": False}, 1.0),
])
def test_each_pairing_gets_its_fixed_points_slope(columns, slope):
    predicted, why = predicted_slope(runs(**columns), PLANE)
    assert predicted == slope and why


def test_sgdw_and_torch_adamw_name_different_fixed_points():
    sgdw = predicted_slope(runs(regularizer="decoupled", optimizer="sgd"), PLANE)[1]
    adamw = predicted_slope(runs(regularizer="decoupled", optimizer="adam"), PLANE)[1]
    assert "λ(1 − β)" in sgdw and "1/λ" in adamw


@pytest.mark.parametrize(("columns", "plane"), [
    ({"regularizer": "l2", "optimizer": "sgd", "model.norm": "batch"}, PLANE),
    ({"regularizer": "l1", "optimizer": "sgd"}, PLANE),
    ({"regularizer": "l2", "optimizer": "sgd"}, ("data.train_size", "regularizer.strength")),
])
def test_no_prediction_where_no_fixed_point_applies(columns, plane):
    predicted, why = predicted_slope(runs(**columns), plane)
    assert math.isnan(predicted) and why == ""
