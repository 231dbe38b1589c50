"""Two swept knobs x and y (learning rate and λ, or training-set size and λ): per setting the
plane of a metric, the y chosen on validation for each x, and how that choice moves with x
(the slope of log y* against log x), per seed and for the mean over seeds."""

import math
from functools import partial

import numpy as np
import pandas as pd
from scipy import stats

from wdbench.metrics.catalog import higher_is_better
from wdbench.report import heatmap, markdown
from wdbench.report.aggregate import label
from wdbench.report.predictions import predicted_slope
from wdbench.report.seeds import edge_warning, interval_text, mean_interval

# Training images in each data set's training file: data.train_size=null takes all of them
# but the validation split.
TRAIN_IMAGES = {"fashion_mnist": 60_000}


def short(key: str) -> str:
    return key.rsplit(".", 1)[-1]


def whole_training_set(runs: pd.DataFrame) -> float:
    """What data.train_size=null trains on: the training file less the validation split."""
    if "data" not in runs or "data.val_size" not in runs:
        return math.nan
    sizes = (runs["data"].map(TRAIN_IMAGES) - pd.to_numeric(runs["data.val_size"],
                                                            errors="coerce")).dropna().unique()
    return float(sizes[0]) if len(sizes) == 1 else math.nan


def numeric_x(frame: pd.DataFrame, x: str, whole: float = math.nan) -> pd.Series:
    """x as numbers; a null training-set size is `whole`."""
    values = pd.to_numeric(frame[x].replace("null", None), errors="coerce")
    return values.fillna(whole) if x == "data.train_size" else values


def choose_y(frame: pd.DataFrame, x: str, y: str, select: str) -> pd.DataFrame:
    """For each x: the y whose `select` (mean over the rows given) is best; its edge warning."""
    maximise = higher_is_better(select)
    rows = []
    for x_value, group in frame.groupby("x", sort=True):
        group = group.dropna(subset=[select])
        if group.empty:
            continue
        best = group.loc[group[select].idxmax() if maximise else group[select].idxmin()]
        rows.append({"x": x_value, "y": best[y], select: best[select],
                     "warning": edge_warning(best[y], frame[y].unique())})
    return pd.DataFrame(rows)


def slope(choices: pd.DataFrame) -> tuple[float, float, int]:
    """(slope, its standard error, points) of log10 y* against log10 x over the choices that
    lie inside the y grid: a choice at an edge is only a bound."""
    inside = choices[(choices["warning"] == "") & (choices["y"] > 0) & (choices["x"] > 0)]
    if len(inside) < 2 or inside["x"].nunique() < 2:
        return math.nan, math.nan, len(inside)
    fit = stats.linregress(np.log10(inside["x"]), np.log10(inside["y"]))
    return float(fit.slope), float(fit.stderr) if len(inside) > 2 else math.nan, len(inside)


def finished_runs(runs: pd.DataFrame, keys: list[str], x: str, whole: float) -> pd.DataFrame:
    done = runs[runs["status"] == "completed"].copy()
    done["x"] = numeric_x(done, x, whole)
    done["variant"] = [label(row, keys) for _, row in done.iterrows()] if keys else "all runs"
    return done


def analyse(runs, table, keys, x, y, select) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(choices, slopes): the y chosen per setting and x on the seed-mean plane and on each
    seed alone, and the slope of log y* against log x of each."""
    variants = [k for k in keys if k not in (x, y)]
    cells = table[table["finished"] == table["runs"]].copy()
    whole = whole_training_set(runs)
    cells["x"] = numeric_x(cells, x, whole)
    cells["variant"] = [label(row, variants) for _, row in cells.iterrows()]
    done = finished_runs(runs, variants, x, whole)
    choice_rows, slope_rows = [], []
    for variant, group in cells.groupby("variant", sort=True):
        mean_choice = choose_y(group, x, y, select).assign(variant=variant, seed="mean")
        choice_rows.append(mean_choice)
        fitted = {"variant": variant}
        fitted["slope"], fitted["stderr"], fitted["points"] = slope(mean_choice)
        mine = done[done["variant"] == variant]
        fitted["predicted"], fitted["predicted from"] = predicted_slope(mine, (x, y))
        per_seed = []
        for seed, seed_runs in mine.groupby("seed"):
            seed_choice = choose_y(seed_runs, x, y, select).assign(variant=variant, seed=seed)
            choice_rows.append(seed_choice)
            per_seed.append(slope(seed_choice)[0])
        fitted["seed slopes"] = per_seed
        fitted["ci"] = mean_interval(per_seed)[:2]
        slope_rows.append(fitted)
    return pd.concat(choice_rows, ignore_index=True), pd.DataFrame(slope_rows)


def choices_table(choices: pd.DataFrame, x: str, y: str, select: str) -> str:
    mean = choices[choices["seed"] == "mean"]
    seeds = choices[choices["seed"] != "mean"]
    rows = []
    for _, row in mean.iterrows():
        mine = seeds[(seeds["variant"] == row["variant"]) & (seeds["x"] == row["x"])]
        rows.append([row["variant"], f"{row['x']:g}", f"{row['y']:g}",
                     markdown.number(row[select]), ", ".join(f"{v:g}" for v in mine["y"]),
                     row["warning"]])
    return markdown.table(["setting", short(x), f"best {short(y)} (mean over seeds)",
                           markdown.header(select), f"best {short(y)} per seed", "warning"],
                          rows)


def slopes_table(slopes: pd.DataFrame) -> str:
    rows = []
    for _, row in slopes.iterrows():
        spread = row["seed slopes"]
        finite = [s for s in spread if not math.isnan(s)]
        rows.append([row["variant"], fmt(row["slope"]) + (f" ± {row['stderr']:.2g}" if not
                                                           math.isnan(row["stderr"]) else ""),
                     str(row["points"]), ", ".join(fmt(s) for s in spread) or "–",
                     f"{np.mean(finite):.2f} ± {np.std(finite, ddof=1):.2f}" if len(finite) > 1
                     else "–", interval_text(*row["ci"]), predicted_text(row)])
    return markdown.table(["setting", "slope (mean plane) ± s.e.", "points inside the grid",
                           "slope per seed", "mean ± std over seeds", "95% CI (t, over seeds)",
                           "predicted (and why)"], rows)


def predicted_text(row) -> str:
    if math.isnan(row["predicted"]):
        return "–"
    return f"{row['predicted']:+.0f} ({row['predicted from']})"


def fmt(value: float) -> str:
    return "–" if math.isnan(value) else f"{value:.2f}"


def section(runs, table, keys, plane, select, out, data_size=False) -> tuple[list[str], list]:
    """Markdown lines and figure names of the two-knob part of a report; plane.csv and
    slopes.csv beside them."""
    x, y = plane
    single = [k for k in plane if k not in table or table[k].nunique() < 2]
    if single:  # a plane needs both knobs swept
        return [f"## The {short(x)} × {short(y)} plane", "",
                f"Not drawn: {', '.join(single)} takes fewer than two values over these runs.",
                ""], []
    choices, slopes = analyse(runs, table, keys, x, y, select)
    choices.to_csv(out / "plane.csv", index=False)
    slopes.to_csv(out / "slopes.csv", index=False)
    variants = [k for k in keys if k not in (x, y)]
    as_numbers = partial(numeric_x, whole=whole_training_set(runs))
    figure = heatmap.planes(table, variants, x, y, select, as_numbers, out / "heatmaps.png")
    lines = [f"## The {short(x)} × {short(y)} plane", "",
             (f"Mean over seeds of each cell; ★ the best cell on test, ○ the cell chosen on "
             f"validation ({select}). Blank cells did not finish (diverged)."), "",
             f"![heatmaps]({figure.name})", "",
             f"### Best {short(y)} per {short(x)}, chosen on validation ({select})", "",
             choices_table(choices, x, y, select), "",
             (f"### How the best {short(y)} moves with {short(x)}: slope of log {short(y)}* "
             f"against log {short(x)}"), "",
             ("Fitted over the values of x whose choice lies inside the y grid (a choice at an "
             "edge is only a bound)."), "", slopes_table(slopes), ""]
    if data_size:
        from wdbench.report.data_size import tau_lines

        lines += tau_lines(choices, runs, x)
    return lines, [figure.name]
