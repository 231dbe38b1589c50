"""The lecture's picture for one run: train, val and test loss per epoch on a log scale, and
||w|| per epoch. Drawn once at the end with matplotlib's Agg canvas (no display, no pyplot
state); matplotlib is imported here, lazily, so it costs nothing at start-up."""

import io
import math
from pathlib import Path

from wdbench.internals import add_summary
from wdbench.metrics.catalog import by_key

LOSS_STYLES = {"train_loss": "-", "val_loss": "--", "test_loss": "-"}
# 7 x 3 inches at 140 dpi: about as many pixels as before, and text at 10 pt that reads as
# about 9 pt where a page or TensorBoard's image card shows the figure 6.5 inches wide.
INCHES, DPI = (7.0, 3.0), 140
TEXT_PT, TITLE_PT = 10, 11
# The first layer's weight inside the span of the training inputs and orthogonal to it.
SPLIT_STYLES = {"weight_l2_span": ("--", "tab:green"), "weight_l2_null": (":", "tab:red")}


def series(history: list[dict], key: str) -> list[float]:
    """A metric per epoch; missing or non-finite points become NaN, which matplotlib leaves
    out (a diverged run's curve just stops)."""
    values = [row.get(key, math.nan) for row in history]
    return [v if isinstance(v, float) and math.isfinite(v) else math.nan for v in values]


def curves_figure(history: list[dict], title: str):
    """The figure, drawn on matplotlib's Agg canvas (`figure.canvas`)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=INCHES, dpi=DPI)
    # Fixed margins: constrained layout measured every tick label, a third of the drawing.
    figure.subplots_adjust(left=0.1, right=0.98, bottom=0.16, top=0.8, wspace=0.32)
    FigureCanvasAgg(figure)
    loss_axes, norm_axes = figure.subplots(1, 2)
    epochs = [row["epoch"] for row in history]
    for key, style in LOSS_STYLES.items():
        tag = by_key(key).tag
        if any(tag in row for row in history):
            values = [v if v > 0 else math.nan for v in series(history, tag)]
            loss_axes.plot(epochs, values, style, label=key.split("_")[0])
    loss_axes.set(yscale="log")
    loss_axes.legend(fontsize=TEXT_PT)
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
        norm_axes.legend(fontsize=TEXT_PT)
    positive = [v for v in drawn if v > 0]
    if positive and max(positive) > 10 * min(positive):
        norm_axes.set_yscale("log")  # shrinking by orders of magnitude reads on a log axis
    # A title at a given height: placing it automatically measured every tick label (over half
    # of the drawing time) to clear ticks that these axes do not draw on top.
    for axes, name, ylabel in ((loss_axes, "loss", "data loss"),
                               (norm_axes, "weight norm", "||w||2 (regularised weights)")):
        axes.set_xlabel("epoch", fontsize=TEXT_PT)
        axes.set_ylabel(ylabel, fontsize=TEXT_PT)
        axes.set_title(name, y=1.0, fontsize=TITLE_PT)
        axes.tick_params(which="both", labelsize=TEXT_PT)
        axes.grid(True, which="both", alpha=0.3)
    figure.suptitle(title, fontsize=TITLE_PT)
    return figure


def draw_curves(history: list[dict], title: str):
    """The figure rendered once, as RGB pixels (H x W x 3, uint8)."""
    import numpy as np

    figure = curves_figure(history, title)
    figure.canvas.draw()
    return np.asarray(figure.canvas.buffer_rgba())[..., :3].copy()


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
