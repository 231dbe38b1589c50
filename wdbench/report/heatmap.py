"""Heatmaps of a metric over two swept knobs, one panel per setting side by side: the mean
over seeds in each cell, the best cell on test (★) and the cell validation chose (○). Cells are
evenly spaced in grid order and labelled with their values: a log-spaced grid looks as it would
on a log axis, and λ = 0, which a log axis cannot show, keeps its own row."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from wdbench.metrics.catalog import by_key, higher_is_better, test_metric_for
from wdbench.report.aggregate import label


def is_log_spaced(values) -> bool:
    values = np.asarray(sorted(values), dtype=float)
    return len(values) > 2 and bool((values > 0).all()) and values[-1] >= 10 * values[0]


def axis_label(key: str, values) -> str:
    """The knob's name, and whether its nonzero values are log-spaced (λ = 0 aside)."""
    name = key.replace("regularizer.strength", "λ (regularizer.strength)")
    positive = [v for v in values if v > 0]
    return f"{name}, log-spaced" if is_log_spaced(positive) else name


def grid(cells: pd.DataFrame, y: str, metric: str):
    """(x values, y values, matrix y × x of the metric's mean; NaN where nothing finished)."""
    pivot = cells.pivot_table(index=y, columns="x", values=metric, aggfunc="mean",
                              dropna=False).sort_index().sort_index(axis=1)
    return pivot.columns.to_numpy(float), pivot.index.to_numpy(float), pivot.to_numpy(float)


def best_cell(cells: pd.DataFrame, y: str, metric: str):
    ranked = cells.dropna(subset=[metric])
    if ranked.empty:
        return None
    best = ranked.loc[ranked[metric].idxmax() if higher_is_better(metric)
                      else ranked[metric].idxmin()]
    return best["x"], best[y]


def colour_range(finite: np.ndarray, good_high: bool):
    """From the best cell to the 75th percentile of the worse side: the good region keeps its
    shades when a few cells (a dead network at chance level) lie far off; those cells saturate
    and their numbers still show."""
    if not finite.size:
        return None, None
    if good_high:
        return float(np.percentile(finite, 25)), float(finite.max())
    return float(finite.min()), float(np.percentile(finite, 75))


def panel(ax, cells, x, y, metric, select):
    xs, ys, values = grid(cells, y, metric)
    good_high = higher_is_better(metric)
    low, high = colour_range(values[np.isfinite(values)], good_high)
    image = ax.pcolormesh(np.arange(len(xs) + 1) - 0.5, np.arange(len(ys) + 1) - 0.5,
                          np.ma.masked_invalid(values), cmap="viridis" if good_high
                          else "viridis_r", shading="flat", vmin=low, vmax=high)
    for i, j in zip(*np.nonzero(np.isfinite(values))):
        red, green, blue, _ = image.cmap(image.norm(values[i, j]))
        light = 0.299 * red + 0.587 * green + 0.114 * blue > 0.5
        ax.text(j, i, f"{values[i, j]:.3g}", ha="center", va="center", fontsize=5.5,
                color="black" if light else "white")
    where = {"x": {v: j for j, v in enumerate(xs)}, "y": {v: i for i, v in enumerate(ys)}}
    marks = ((best_cell(cells, y, metric), {"marker": "*", "ms": 15, "mec": "red"}),
             (best_cell(cells, y, select), {"marker": "o", "ms": 17, "mec": "orange"}))
    for cell, style in marks:
        if cell is not None:
            column, row = where["x"][float(cell[0])], where["y"][float(cell[1])]
            ax.plot(column, row, mfc="none", mew=1.4, **style)
    ax.set_xticks(range(len(xs)), [f"{v:g}" for v in xs], fontsize=6, rotation=45)
    ax.set_yticks(range(len(ys)), [f"{v:g}" for v in ys], fontsize=6)
    ax.set_xlabel(axis_label(x, xs), fontsize=7)
    ax.set_ylabel(axis_label(y, ys), fontsize=7)
    return image


def planes(table: pd.DataFrame, variants: list[str], x: str, y: str, select: str, numeric_x,
           path: Path) -> Path:
    """One panel per setting (columns) and per metric (rows: the test metric matching
    `select`, and test accuracy too when the runs have it and `select` is a loss)."""
    cells = table[table["finished"] == table["runs"]].copy()
    cells["x"] = numeric_x(cells, x)
    names = [label(row, variants) for _, row in cells.iterrows()] if variants else "all runs"
    cells["variant"] = names
    test_metric = test_metric_for(select)
    metrics = [test_metric] + (["test_acc"] if test_metric == "test_loss"
                               and cells["test_acc"].notna().any() else [])
    groups = list(cells.groupby("variant", sort=True))
    fig, axes = plt.subplots(len(metrics), len(groups), squeeze=False,
                             figsize=(3.6 * len(groups) + 0.6, 3.4 * len(metrics)))
    for row, metric in enumerate(metrics):
        for column, (variant, group) in enumerate(groups):
            ax = axes[row][column]
            image = panel(ax, group, x, y, metric, select)
            ax.set_title(f"{by_key(metric).label}\n{short_label(variant)}", fontsize=7)
            bar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.03,
                               extend="min" if higher_is_better(metric) else "max")
            bar.ax.tick_params(labelsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def short_label(variant: str) -> str:
    """"regularizer.scale_by_lr=False" -> "scale_by_lr=False": titles stay one line."""
    return ", ".join(part.split("=")[0].rsplit(".", 1)[-1] + "=" + part.split("=", 1)[1]
                     if "=" in part else part for part in variant.split(", "))
