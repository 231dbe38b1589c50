"""Plots of a report: metrics against lambda or a radius (log axis, every swept value labelled,
lambda = 0 one decade left of the smallest positive value, radius = inf one decade right of the
largest finite one), one line per setting with a band of ± one std over seeds/folds; and
per-epoch train/test loss curves."""

import math

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from wdbench.report.aggregate import label


def zero_position(values) -> float:
    positive = [v for v in values if 0 < v < math.inf]
    return min(positive) / 10 if positive else 1.0


def infinity_position(values) -> float:
    finite = [v for v in values if 0 < v < math.inf]
    return max(finite) * 10 if finite else 10.0


def positions(values, swept) -> list[float]:
    """Where each swept value sits on the log axis: 0 and inf one decade beyond the others."""
    return [zero_position(swept) if v == 0 else infinity_position(swept) if v == math.inf else v
            for v in values]


def tick_label(value: float) -> str:
    """One style for every swept value: below 1 as `1e-4`, `3e-3`; from 1 up as `3`, `100`."""
    if value == math.inf:
        return "∞"
    if value == 0 or 1 <= value < 1e4:
        return f"{value:g}"
    exponent = math.floor(math.log10(value))
    mantissa = round(value / 10.0**exponent, 6)
    if mantissa >= 10:  # 9.9999999e-3 rounds up to the next decade
        mantissa, exponent = mantissa / 10, exponent + 1
    return f"{mantissa:g}e{exponent}"


def log_axis(ax, values) -> None:
    """Log x axis with a tick at every swept value (lambda = 0 drawn at zero_position and
    labelled 0): a decade-only axis left values such as 3 unlabelled."""
    ax.set_xscale("log")
    swept = sorted({v for v in values if v >= 0})  # a negative λ (a failed run) has no place
    ax.set_xticks(positions(swept, swept), [tick_label(v) for v in swept])
    ax.minorticks_off()
    if len(swept) > 6:  # a dense grid: slanted labels do not overlap
        ax.tick_params(axis="x", labelrotation=45)


def panels_for(aggregated: pd.DataFrame) -> list[tuple[str, str]]:
    classification = aggregated["test_acc"].notna().any()
    if classification:
        return [("test_acc", "test accuracy"), ("gap_acc", "gap: train − test accuracy"),
                ("weight_l2", "‖w‖₂")]
    return [("test_loss", "test loss"), ("gap_loss", "gap: test − train loss"),
            ("weight_l2", "‖w‖₂")]


def against_knob(aggregated: pd.DataFrame, settings: list[str], knob: str, path) -> None:
    data = aggregated.copy()
    data[knob] = pd.to_numeric(data[knob], errors="coerce")
    data = data.dropna(subset=[knob])
    values = sorted(data[knob].unique())
    panels = panels_for(data)
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.8))
    groups = data.groupby(settings, dropna=False, sort=True) if settings else [((), data)]
    for _, group in groups:
        group = group.sort_values(knob)
        x = positions(group[knob].tolist(), values)
        name = label(group.iloc[0], settings)
        for ax, (metric, _) in zip(axes, panels):
            mean = group[metric].to_numpy(float)
            std = np.nan_to_num(group[metric + "_std"].to_numpy(float))
            line, = ax.plot(x, mean, marker="o", ms=3, label=name)
            ax.fill_between(x, mean - std, mean + std, color=line.get_color(), alpha=0.2)
    for ax, (metric, title) in zip(axes, panels):
        log_axis(ax, values)
        ax.set_xlabel(knob.replace("regularizer.strength", "λ (regularizer.strength)"))
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ys = data[metric].dropna()
        if len(ys) and (ys > 0).all() and ys.max() > 20 * ys.min():
            ax.set_yscale("log")  # losses and norms that span decades across a lambda grid
    axes[0].legend(fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def curves(histories: dict, path, metrics=("loss/train", "loss/test")) -> None:
    """Mean per-epoch curves, one colour per configuration (in the dict's order): dashed
    train, solid test."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    colours = plt.cm.viridis(np.linspace(0, 0.9, max(len(histories), 1)))
    for colour, (name, frames) in zip(colours, histories.items()):
        stacked = pd.concat(frames).groupby("epoch").mean(numeric_only=True)
        for metric, style in zip(metrics, ("--", "-")):
            if metric in stacked:
                ax.plot(stacked.index, stacked[metric], style, color=colour,
                        label=name if style == "-" else None)
    ax.set_title("dashed: " + metrics[0] + ", solid: " + metrics[1], fontsize=9)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (mean over seeds)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9, ncol=2)  # read at the report's width, not zoomed
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
