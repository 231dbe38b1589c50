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


BATCH_NORM = {"model.norm": "batch"}


@pytest.mark.parametrize(("columns", "slope"), [
    ({"regularizer": "l2", "optimizer": "sgd"}, -1.0),
    ({"regularizer": "weight_decay", "optimizer": "sgd"}, -1.0),
    ({"regularizer": "decoupled", "optimizer": "sgd", "regularizer.scale_by_lr": True}, -1.0),
    ({"regularizer": "decoupled", "optimizer": "sgd", "regularizer.scale_by_lr": False}, 0.0),
    ({"regularizer": "l2", "optimizer": "adam"}, -2.0),
    ({"regularizer": "weight_decay", "optimizer": "adam"}, -2.0),
    ({"regularizer": "weight_decay", "optimizer": "adamw"}, -1.0),
    ({"regularizer": "decoupled", "optimizer": "adam", "regularizer.scale_by_lr": True}, -1.0),
    ({"regularizer": "decoupled", "optimizer": "adam", "regularizer.scale_by_lr": False}, 0.0),
])
def test_under_batch_norm_each_pairing_gets_its_scale_symmetrys_slope(columns, slope):
    predicted, why = predicted_slope(runs(**columns, **BATCH_NORM), PLANE)
    assert predicted == slope and why.startswith("batch norm")


@pytest.mark.parametrize("columns", [
    {"regularizer": "l2", "optimizer": "sgd"},
    {"regularizer": "decoupled", "optimizer": "adam", "regularizer.scale_by_lr": True},
    {"regularizer": "decoupled", "optimizer": "adam", "regularizer.scale_by_lr": False},
])
def test_batch_norm_changes_the_prediction_of_the_same_pairing(columns):
    """The fixed point without normalisation and the symmetry under it disagree: the diagonal
    of a coupled form is the scale invariance's, not the fixed point's."""
    plain = predicted_slope(runs(**columns), PLANE)[0]
    normalised = predicted_slope(runs(**columns, **BATCH_NORM), PLANE)[0]
    assert normalised == plain - 1


def test_sgdw_and_torch_adamw_name_different_fixed_points():
    sgdw = predicted_slope(runs(regularizer="decoupled", optimizer="sgd"), PLANE)[1]
    adamw = predicted_slope(runs(regularizer="decoupled", optimizer="adam"), PLANE)[1]
    assert "λ(1 − β)" in sgdw and "1/λ" in adamw


@pytest.mark.parametrize(("columns", "plane"), [
    ({"regularizer": "l2", "optimizer": "sgd", "model.norm": "layer"}, PLANE),
    ({"regularizer": "l1", "optimizer": "adam", "model.norm": "batch"}, PLANE),
    ({"regularizer": "l1", "optimizer": "sgd"}, PLANE),
    ({"regularizer": "l2", "optimizer": "sgd"}, ("data.train_size", "regularizer.strength")),
])
def test_no_prediction_where_no_fixed_point_applies(columns, plane):
    predicted, why = predicted_slope(runs(**columns), plane)
    assert math.isnan(predicted) and why == ""
