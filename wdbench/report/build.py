"""One report: runs.csv, configurations.csv, report.md and the plots, in one folder."""

import math
import os
from pathlib import Path

import pandas as pd

from wdbench.errors import WdbenchError
from wdbench.metrics.catalog import summary_keys
from wdbench.outputs.files import RunDir
from wdbench.report import aggregate, collect, markdown, plots, seeds, settings_paired, two_knobs
from wdbench.report.versions import versions_line

KNOB = "regularizer.strength"


def relative(path: str, base: Path) -> str:
    return os.path.relpath(path, base)


def histories_by_config(runs, keys, source) -> dict:
    """Per-epoch curves of the completed runs, by configuration, in the table's order."""
    histories: dict[str, list] = {}
    done = runs[runs["status"] == "completed"]
    for _, row in (done.sort_values(keys) if keys else done).iterrows():
        history = collect.read_history(Path(row["run_dir"]), source)
        if not history.empty:
            name = ", ".join(f"{k.rsplit('.', 1)[-1]}={row[k]:g}" if isinstance(row[k], float)
                             else f"{k.rsplit('.', 1)[-1]}={row[k]}" for k in keys)
            histories.setdefault(name or "all runs", []).append(history)
    return histories


def setting_text(value) -> str:
    """1000 (not 1000.0, which a column with nulls in it would give), null, l2, [1d]."""
    if value == collect.ABSENT:
        return "–"
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "null"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def busy_seconds(runs) -> float | None:
    """Wall-clock time during which at least one of the runs was running: each run spans its
    summary.json's time less its wall time; overlaps (parallel jobs) count once and the gaps
    between two invocations of a resumed sweep not at all. A stacked member spans its whole
    stack's time."""
    spans = []
    for _, row in runs.iterrows():
        path = RunDir(row["run_dir"]).summary
        wall_time = row.get("wall_time")
        if path.is_file() and isinstance(wall_time, float) and math.isfinite(wall_time):
            end = path.stat().st_mtime
            members = row.get("stack_members")
            stack = float(members) if pd.notna(members) and float(members) >= 1 else 1.0
            spans.append((end - wall_time * stack, end))
    if not spans:
        return None
    busy, reach = 0.0, -math.inf
    for start, end in sorted(spans):
        busy += max(0.0, end - max(start, reach))
        reach = max(reach, end)
    return busy


def make_report(paths, out, source="summary", knobs=(KNOB,), select=None,
                curves=False, title="wdbench report", command="", plane=None,
                data_size=False) -> dict:
    """select: the validation metric that chooses λ; None = val_loss, and val_acc as well
    where the runs have it (the two can disagree: loss rewards calibration).
    plane: two swept keys (x, y): heatmaps of the y-x plane per setting, and how the best y
    moves with x. data_size: x is data.train_size; also the best τ in epochs per size."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    runs = collect.collect(paths, source)
    if runs.empty:
        raise WdbenchError(f"no run directories (with .hydra/config.yaml) under {paths}")
    config_keys = [c for c in runs.columns if c not in summary_keys() and c not in
                   ("run_dir", "status", "epochs", "wall_time", "error", "stack_members")]
    settings, knob_keys = aggregate.split_keys(runs, config_keys, list(knobs))
    keys = settings + knob_keys
    for knob in knob_keys:  # numbers sort as numbers, not as text
        runs[knob] = pd.to_numeric(runs[knob].replace(collect.ABSENT, None), errors="coerce")
    for key in settings:  # settings are names: null stays visible, mixed types still sort
        runs[key] = runs[key].map(setting_text)
    table = aggregate.aggregate(runs, keys)
    has_acc = table["val_acc"].notna().any()
    selects = [select] if select else ["val_loss"] + (["val_acc"] if has_acc else [])
    chosen = {metric: aggregate.choose(table, settings, knob_keys, metric) for metric in selects}
    runner_up = {metric: seeds.runner_up_rows(runs, table, settings, knob_keys, metric)
                 for metric in selects}
    # a plane's settings are its rows (one per lr): its own section compares them
    between = {} if plane else {
        metric: settings_paired.compare(runs, table, settings, knob_keys, metric)
        for metric in selects}
    runs.to_csv(out / "runs.csv", index=False)
    table.to_csv(out / "configurations.csv", index=False)
    paired = [frame for frame in between.values() if not frame.empty]
    if paired:
        pd.concat(paired).to_csv(out / "settings_paired.csv", index=False)

    figures = []
    if knob_keys and table[knob_keys[0]].nunique() > 1 and not plane:  # plane: heatmaps instead
        plots.against_knob(table, settings, knob_keys[0], out / "vs_lambda.png")
        figures.append("vs_lambda.png")
    if curves:
        plots.curves(histories_by_config(runs, keys, source), out / "curves.png")
        figures.append("curves.png")

    finished = int((runs["status"] == "completed").sum())
    base = Path(os.path.commonpath(list(runs["run_dir"]))).parent  # names runs in the tables
    lines = [f"# {title}", ""]
    if command:
        lines += [f"`{command}`", ""]
    reader = "TensorBoard event files" if source == "tensorboard" else f"{RunDir.SUMMARY} files"
    timing = ""
    if "wall_time" in runs and runs["wall_time"].notna().any():
        busy = busy_seconds(runs)
        timing = f" Run time {runs['wall_time'].sum():.0f} s summed over runs" + (
            f", {busy / 60:.1f} min of wall-clock time with a run going." if busy else ".")
    lines += [
        f"{len(runs)} runs ({finished} completed), read from {reader}.{timing}",
        "",
        versions_line(runs["run_dir"]),
        "",
        "## Per configuration (mean ± std over seeds / folds)", "",
        markdown.configurations(table, keys), "", markdown.interval_note(table), "",
    ]
    for metric, choice in chosen.items():
        if table[metric].isna().all():  # an empty table would say nothing about why
            lines += [f"## λ chosen on validation ({metric})", "", markdown.no_validation(metric),
                      ""]
            continue
        lines += [f"## λ chosen on validation ({metric}) and the best on test", "",
                  markdown.choices(choice, settings, metric), "",
                  ("The choice against the runner-up on validation (paired by seed; an interval "
                  "that holds 0 means the two are within seed noise):"), "",
                  markdown.differences(runner_up[metric], settings, metric), ""]
        if metric in between and not between[metric].empty:
            lines += [(f"Setting against setting, each at its λ chosen on {metric} (paired by "
                       "seed, the best setting on validation minus each other one):"), "",
                      settings_paired.markdown_table(between[metric]), ""]
    if plane:
        plane_lines, plane_figures = two_knobs.section(runs, table, settings + knob_keys,
                                                       plane, selects[0], out, data_size)
        lines += plane_lines
    else:
        plane_figures = []
    lines += [
        "## Runs that did not complete", "",
        markdown.unfinished(runs, lambda p: relative(p, base)), "",
    ]
    lines += [f"![{name}]({name})" for name in figures]
    (out / "report.md").write_text("\n".join(lines) + "\n")
    return {"runs": runs, "table": table, "chosen": chosen, "runner_up": runner_up,
            "settings": settings, "knobs": knob_keys, "between": between,
            "figures": plane_figures + figures}
