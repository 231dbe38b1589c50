"""curves.png reads at the size it is shown: every legend, tick label, axis label and title,
measured on the matplotlib figure itself, and none of them cut at the figure's edge."""

import math

import pytest

from wdbench.outputs.figure import curves_figure

SHOWN_INCHES = 6.5  # a page's text width, and about TensorBoard's image card at 650 px
SMALLEST_PT = 9  # the report figures' legends


def history(epochs: int = 30) -> list[dict]:
    """A run that overfits while L2 shrinks the weight, with the first layer's split."""
    return [{"epoch": e, "loss/train": 2 * math.exp(-e / 4) + 1e-3, "loss/val": 1 + math.exp(-e),
             "loss/test": 1.1 + math.exp(-e), "weights/l2": 20 * math.exp(-e / 20),
             "weights/l2_span": 10 * math.exp(-e / 20), "weights/l2_null": 15 * math.exp(-e / 5)}
            for e in range(epochs + 1)]


@pytest.fixture(scope="module")
def figure():
    figure = curves_figure(history(), "mlp_l2: l2, strength 0.001, seed 0")
    figure.canvas.draw()  # ticks and their labels exist once drawn
    return figure


def drawn_labels(axis, coordinate: int) -> list:
    """The tick labels inside the axis' limits: matplotlib keeps, but does not draw, others."""
    low, high = sorted(axis.get_view_interval())
    return [t for t in axis.get_ticklabels(which="both")
            if t.get_text() and low <= t.get_position()[coordinate] <= high]


def texts(figure) -> dict[str, list]:
    found = {"suptitle": list(figure.texts)}
    for i, axes in enumerate(figure.axes):
        found[f"legend {i}"] = axes.get_legend().get_texts()
        found[f"ticks {i}"] = drawn_labels(axes.xaxis, 0) + drawn_labels(axes.yaxis, 1)
        found[f"labels {i}"] = [axes.xaxis.label, axes.yaxis.label, axes.title]
    return found


def test_every_text_reads_at_9_pt_where_the_figure_is_shown(figure):
    scale = SHOWN_INCHES / figure.get_figwidth()
    for where, items in texts(figure).items():
        assert items, where
        for text in items:
            assert text.get_fontsize() * scale >= SMALLEST_PT, (where, text.get_text())


def test_no_text_is_cut_at_the_edge(figure):
    renderer = figure.canvas.get_renderer()
    width, height = figure.canvas.get_width_height()
    for where, items in texts(figure).items():
        for text in items:
            box = text.get_window_extent(renderer)
            assert 0 <= box.x0 and box.x1 <= width and 0 <= box.y0 and box.y1 <= height, (
                where, text.get_text(), box)


def test_the_legends_name_every_curve(figure):
    loss, norm = figure.axes
    assert [t.get_text() for t in loss.get_legend().get_texts()] == ["train", "val", "test"]
    assert len(norm.get_legend().get_texts()) == len(norm.lines) == 3
