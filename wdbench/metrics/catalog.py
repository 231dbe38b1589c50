"""The final metrics: one row each, read by everything that shows a run's result. A row names
the TensorBoard tag its measurer logs every epoch; the last epoch's value becomes the
summary.json key, an HParams column, a sweep table column and a report column, each where the
row gives it a place. A new metric is its measurer (measures.py) and its row here.

The readers take their lists from here when they run (not when imported), so a row added at
run time reaches all of them."""

import math
from dataclasses import dataclass

UNBOUNDED = (-math.inf, math.inf)
FRACTION, NON_NEGATIVE = (0.0, 1.0), (0.0, math.inf)


@dataclass(frozen=True)
class FinalMetric:
    tag: str  # the scalar tag logged each epoch; for a per-layer metric, its tags' prefix
    key: str | None  # summary.json key and report column; None: TensorBoard only
    label: str  # what it is, for a reader: the HParams column's name
    higher_is_better: bool = False
    bounds: tuple[float, float] = UNBOUNDED  # what a value can be: cuts a report's interval
    per_layer: bool = False  # summary.json holds {parameter name: value}
    progress: bool = False  # in each epoch's progress line
    hparams: int | None = None  # position among the HParams metric columns; None: not one
    sweep: int | None = None  # position in the table at a sweep's end
    sweep_title: str | None = None
    sweep_format: str = "{:.4g}"
    report: int | None = None  # position in a report's configurations.csv (mean, std, CI)
    report_header: str | None = None  # its header in a report's tables
    report_table: bool = False  # a column of the report's configurations table
    interval: bool = False  # the report's cell carries the 95% interval too


# In summary.json's order: the whole-model values, then the per-layer dictionaries.
FINAL_METRICS = [
    FinalMetric("loss/train", "train_loss", "train loss", bounds=NON_NEGATIVE, progress=True,
                hparams=6, report=10),
    FinalMetric("loss/val", "val_loss", "val loss", bounds=NON_NEGATIVE, progress=True,
                hparams=4, report=5, report_header="val loss", report_table=True,
                interval=True),
    FinalMetric("loss/test", "test_loss", "test loss", bounds=NON_NEGATIVE, progress=True,
                hparams=2, sweep=1, sweep_title="test loss", report=2,
                report_header="test loss", report_table=True, interval=True),
    FinalMetric("gap/loss", "gap_loss", "gap loss (test - train)", hparams=8, sweep=3,
                sweep_title="gap loss", report=4, report_header="gap loss (test-train)",
                report_table=True),
    FinalMetric("acc/train", "train_acc", "train accuracy", higher_is_better=True,
                bounds=FRACTION, progress=True, hparams=5, report=11),
    FinalMetric("acc/train_clean", "train_clean_acc", "train accuracy, labels kept by the noise",
                higher_is_better=True, bounds=FRACTION),
    FinalMetric("acc/train_corrupted", "train_corrupted_acc",
                "train accuracy, labels changed by the noise (memorised)", bounds=FRACTION),
    FinalMetric("acc/val", "val_acc", "val accuracy", higher_is_better=True, bounds=FRACTION,
                hparams=3, report=9, report_header="val acc"),
    FinalMetric("acc/test", "test_acc", "test accuracy", higher_is_better=True,
                bounds=FRACTION, progress=True, hparams=1, sweep=2, sweep_title="test acc",
                sweep_format="{:.4f}", report=1, report_header="test acc", report_table=True,
                interval=True),
    FinalMetric("gap/acc", "gap_acc", "gap acc (train - test)", bounds=(-1.0, 1.0), hparams=7,
                sweep=4, sweep_title="gap acc", sweep_format="{:.4f}", report=3,
                report_header="gap acc (train-test)", report_table=True),
    FinalMetric("gap/acc_val", None, "gap acc (train - val)", hparams=9),
    FinalMetric("gap/loss_val", None, "gap loss (val - train)", hparams=10),
    FinalMetric("weights/l2", "weight_l2", "||w||2", bounds=NON_NEGATIVE, progress=True,
                hparams=11, sweep=5, sweep_title="‖w‖", report=6, report_header="‖w‖₂",
                report_table=True),
    FinalMetric("weights/l2_span", "weight_l2_span", "in span of inputs (1st layer)"),
    FinalMetric("weights/l2_null", "weight_l2_null", "orthogonal to it (1st layer)"),
    FinalMetric("weights/l1", "weight_l1", "||w||1", hparams=12),
    FinalMetric("weights/zero_frac", "weight_zero_frac", "zero fraction", bounds=FRACTION,
                hparams=13, report=7, report_header="zero weights", report_table=True),
    FinalMetric("weights/small_frac", "weight_small_frac", "small fraction", bounds=FRACTION,
                report=8, report_header="\\|w\\| < 1e-3", report_table=True),
    FinalMetric("weights/max_abs", "weight_max_abs", "max |w|"),
    FinalMetric("bias/l2", "bias_l2", "||b||2"),
    FinalMetric("weights/l2_layer/", "layer_l2", "||w||2 per layer", per_layer=True),
    FinalMetric("weights/spectral_layer/", "layer_spectral", "spectral norm per layer",
                per_layer=True),
    FinalMetric("bias/l2_layer/", "bias_layer_l2", "||b||2 per layer", per_layer=True),
    FinalMetric("weights/effective_lr_layer/", "layer_effective_lr",
                "lr / ||w||2 per layer", per_layer=True),
    FinalMetric("weights/angular_update_layer/", "layer_angular_update",
                "angle per step per layer", per_layer=True),
    FinalMetric("weights/angular_update_predicted_layer/", "layer_angular_update_predicted",
                "predicted angle per step per layer", per_layer=True),
    FinalMetric("weights/grad_norm_layer/", "layer_grad_norm", "||g||2 per layer",
                per_layer=True),
    FinalMetric("weights/grad_to_weight_layer/", "layer_grad_to_weight", "||g|| / ||w|| per layer",
                per_layer=True),
    FinalMetric("weights/grad_to_weight_predicted_layer/", "layer_grad_to_weight_predicted",
                "predicted ||g|| / ||w|| per layer", per_layer=True),
]
# The HParams dashboard shows five metric columns at first: these, by task.
HPARAMS_FIRST = {
    "classification": ["acc/test", "loss/test", "gap/acc", "acc/train", "weights/l2"],
    "regression": ["loss/test", "loss/train", "gap/loss", "loss/val", "weights/l2"],
}


def placed(position: str) -> list[FinalMetric]:
    """The rows that have a place in one reader (hparams, sweep, report), in its order."""
    rows = [m for m in FINAL_METRICS if getattr(m, position) is not None]
    return sorted(rows, key=lambda m: getattr(m, position))


def summary_metrics() -> list[FinalMetric]:
    """The whole-model values summary.json holds, in its order."""
    return [m for m in FINAL_METRICS if m.key is not None and not m.per_layer]


def per_layer_metrics() -> list[FinalMetric]:
    return [m for m in FINAL_METRICS if m.per_layer]


def progress_tags() -> list[str]:
    return [m.tag for m in FINAL_METRICS if m.progress]


def summary_keys() -> list[str]:
    return [m.key for m in summary_metrics()]


def by_key(key: str) -> FinalMetric:
    return next(m for m in FINAL_METRICS if m.key == key)


def tag_of(key: str) -> str:
    return by_key(key).tag


def higher_is_better(key: str) -> bool:
    return by_key(key).higher_is_better


def test_metric_for(select: str) -> str:
    """The test metric that goes with a selection metric: accuracy with accuracy, else loss."""
    return "test_acc" if higher_is_better(select) else "test_loss"


def bounds_of(key: str) -> tuple[float, float]:
    found = [m.bounds for m in FINAL_METRICS if m.key == key]
    return found[0] if found else UNBOUNDED
