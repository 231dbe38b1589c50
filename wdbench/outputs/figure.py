"""The lecture's picture for one run: train, val and test loss per epoch on a log scale, and
||w|| per epoch. Drawn once at the end with matplotlib's Agg canvas (no display, no pyplot
state); matplotlib is imported here, lazily, so it costs nothing at start-up."""

import io
import math
from pathlib import Path

from wdbench.internals import add_summary
from wdbench.metrics.catalog import by_key

LOSS_STYLES = {"train_loss": "-", "val_loss": "--", "test_loss": "-"}
# The first layer's weight inside the span of the training inputs and orthogonal to it.
SPLIT_STYLES = {"weight_l2_span": ("--", "tab:green"), "weight_l2_null": (":", "tab:red")}


def series(history: list[dict], key: str) -> list[float]:
    """A metric per epoch; missing or non-finite points become NaN, which matplotlib leaves
    out (a diverged run's curve just stops)."""
    values = [row.get(key, math.nan) for row in history]
    return [v if isinstance(v, float) and math.isfinite(v) else math.nan for v in values]


def draw_curves(history: list[dict], title: str):
    """The figure rendered once, as RGB pixels (H x W x 3, uint8)."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 4), dpi=100)
    # Fixed margins: constrained layout measured every tick label, a third of the drawing.
    figure.subplots_adjust(left=0.07, right=0.98, bottom=0.12, top=0.84, wspace=0.22)
    canvas = FigureCanvasAgg(figure)
    loss_axes, norm_axes = figure.subplots(1, 2)
    epochs = [row["epoch"] for row in history]
    for key, style in LOSS_STYLES.items():
        tag = by_key(key).tag
        if any(tag in row for row in history):
            values = [v if v > 0 else math.nan for v in series(history, tag)]
            loss_axes.plot(epochs, values, style, label=key.split("_")[0])
    loss_axes.set(yscale="log", xlabel="epoch", ylabel="data loss")
    loss_axes.legend()
    norms = series(history, by_key("weight_l2").tag)
    norm_axes.plot(epochs, norms, color="tab:purple", label="||w||")
    drawn = list(norms)
    for key, (style, colour) in SPLIT_STYLES.items():
        metric = by_key(key)
        if any(metric.tag in row for row in history):
            part = series(history, metric.tag)
            norm_axes.plot(epochs, part, style, color=colour, label=metric.label)
            drawn += part
    if len(norm_axes.lines) > 1:
        norm_axes.legend()
    positive = [v for v in drawn if v > 0]
    if positive and max(positive) > 10 * min(positive):
        norm_axes.set_yscale("log")  # shrinking by orders of magnitude reads on a log axis
    norm_axes.set(xlabel="epoch", ylabel="||w||2 (regularised weights)")
    # A title at a given height: placing it automatically measured every tick label (over half
    # of the drawing time) to clear ticks that these axes do not draw on top.
    loss_axes.set_title("loss", y=1.0)
    norm_axes.set_title("weight norm", y=1.0)
    for axes in (loss_axes, norm_axes):
        axes.grid(True, which="both", alpha=0.3)
    figure.suptitle(title)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def save_curves(history: list[dict], title: str, path: Path, writer, step: int) -> None:
    """curves.png in the run directory, and the same PNG bytes in TensorBoard's images tab
    (drawn once, encoded once)."""
    from matplotlib.image import imsave
    from tensorboard.compat.proto.summary_pb2 import Summary

    pixels = draw_curves(history, title)
    png = io.BytesIO()
    imsave(png, pixels, format="png")
    path.write_bytes(png.getvalue())
    if writer is not None:
        height, width, channels = pixels.shape
        image = Summary.Image(height=height, width=width, colorspace=channels,
                              encoded_image_string=png.getvalue())
        add_summary(writer, Summary(value=[Summary.Value(tag="curves", image=image)]), step)
        writer.flush()
