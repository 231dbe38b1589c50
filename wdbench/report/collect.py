"""Read run directories into one flat record per run: the composed config (dotted keys), how
the run ended, and its final metrics, from summary.json or from the TensorBoard event files."""

import math
import os
from pathlib import Path

import pandas as pd
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from wdbench.config.compose import REPORTED_GROUPS, flatten
from wdbench.metrics.catalog import summary_keys, summary_metrics
from wdbench.outputs.files import RunDir

SKIP_DIRS = {RunDir.HYDRA, ".submitit", RunDir.CHECKPOINT.parts[0]}
# A config key a run does not have at all (added to conf/ after it ran), unlike a null value.
ABSENT = "<absent>"


def find_runs(paths) -> list[Path]:
    """Every run directory under the given paths: one with Hydra's .hydra/config.yaml."""
    found = []
    for root in map(Path, paths):
        for current, dirs, _ in os.walk(root):
            if RunDir(current).config.is_file():
                found.append(Path(current))
                dirs.clear()  # a run's own subfolders hold no runs
            else:
                dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
    return sorted(found)


def completed_records(paths, record) -> tuple[pd.DataFrame, list[Path]]:
    """A script's table of runs: record(run_dir) -> dict for every run under `paths` that has
    a summary (one still going has none), the completed ones kept; each row's index is its
    run directory's place in the list returned beside it."""
    dirs = [d for d in find_runs(paths) if RunDir(d).read_summary() is not None]
    runs = pd.DataFrame([record(d) for d in dirs])
    return runs[runs.status == "completed"], dirs


def as_columns(node: dict) -> dict:
    """Dotted keys, lists as "[a,b]" (a value a table can hold and compare)."""
    return {key: "[" + ",".join(str(v) for v in value) + "]" if isinstance(value, list) else value
            for key, value in flatten(node).items()}


def read_config(run_dir: Path) -> dict:
    """The run's config as dotted keys; `_target_` lines replaced by the chosen option's name
    (regularizer=l2), which is what a reader compares."""
    config = OmegaConf.load(RunDir(run_dir).config)
    try:
        node = OmegaConf.to_container(config, resolve=True)
    except OmegaConfBaseException:  # an interpolation that only resolves inside Hydra
        node = OmegaConf.to_container(config, resolve=False)
    flat = {k: v for k, v in as_columns(node).items() if not k.rsplit(".", 1)[-1].startswith("_")}
    hydra_yaml = RunDir(run_dir).hydra_config
    choices = OmegaConf.load(hydra_yaml).hydra.runtime.choices if hydra_yaml.is_file() else {}
    for group in REPORTED_GROUPS:
        if group in choices:
            flat[group] = choices[group]
    return flat


def from_summary(run_dir: Path) -> dict:
    summary = RunDir(run_dir).read_summary()
    if summary is None:
        return {"status": "interrupted", "error": f"no {RunDir.SUMMARY}: the run did not finish"}
    record = {key: summary.get(key) for key in summary_keys()}
    record.update(status=summary.get("status"), epochs=summary.get("epochs"),
                  wall_time=summary.get("wall_time"), error=summary.get("error"))
    # A stacked member's wall_time is its share of the stack's; the stack ran members times it.
    record["stack_members"] = (summary.get("stacked") or {}).get("members", 1)
    if summary.get("diverged_epoch") is not None:
        record["error"] = f"diverged at epoch {summary['diverged_epoch']}"
    return record


def read_events(run_dir: Path) -> pd.DataFrame:
    """Scalars per epoch from the event files, as a table epoch x tag (tbparse)."""
    from tbparse import SummaryReader

    scalars = SummaryReader(str(run_dir)).scalars
    if scalars.empty:
        return pd.DataFrame()
    table = scalars.pivot_table(index="step", columns="tag", values="value", aggfunc="last")
    return table.rename_axis("epoch").reset_index()


def from_events(run_dir: Path, max_epochs) -> dict:
    """Final metrics = the last epoch's scalars; how the run ended, from the curves alone."""
    table = read_events(run_dir)
    if table.empty:
        return {"status": "interrupted", "error": "no TensorBoard scalars"}
    last = table.iloc[-1]
    record = {m.key: float(last[m.tag]) for m in summary_metrics() if m.tag in last}
    epochs = int(last["epoch"])
    if not all(math.isfinite(v) for v in record.values() if v is not None):
        status = "diverged"
    elif max_epochs is not None and epochs < max_epochs:
        status = "interrupted"
    else:
        status = "completed"
    record = {k: (v if math.isfinite(v) else None) for k, v in record.items()}
    return {**record, "status": status, "epochs": epochs}


def read_history(run_dir: Path, source: str) -> pd.DataFrame:
    """Per-epoch curves: history.csv, or the event files with source='tensorboard'."""
    if source == "tensorboard":
        return read_events(run_dir)
    path = RunDir(run_dir).history
    return pd.read_csv(path) if path.is_file() else pd.DataFrame()


# What from_summary / from_events give; a runs.csv row's other columns are its config.
OUTCOME_KEYS = {*summary_keys(), "status", "epochs", "wall_time", "error", "stack_members"}


def typed(cell: str):
    """A runs.csv cell as read_config or from_summary gave it: '' (null) -> None, numbers,
    booleans; anything else (a list as "[a,b]", a name) stays text."""
    if cell == "":
        return None
    if cell in ("True", "False"):
        return cell == "True"
    for number in (int, float):
        try:
            return number(cell)
        except ValueError:
            pass
    return cell


def from_table(path: Path) -> list[tuple[dict, dict]]:
    """(config, outcome) per row of a report's runs.csv: runs whose directories are not here
    (another machine's), read back as collect() read them there."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    rows = []
    for record in table.to_dict("records"):
        record = {key: typed(cell) for key, cell in record.items()}
        rows.append(({k: v for k, v in record.items() if k not in OUTCOME_KEYS},
                     {k: v for k, v in record.items() if k in OUTCOME_KEYS}))
    return rows


def collect(paths, source: str = "summary") -> pd.DataFrame:
    """One row per run under `paths`: run_dir, config keys, status, final metrics. A path that
    is a report's runs.csv adds its rows, except those whose run directory is also read."""
    tables = [Path(p) for p in paths if Path(p).suffix == ".csv"]
    rows = []
    for run_dir in find_runs([p for p in paths if Path(p).suffix != ".csv"]):
        config = read_config(run_dir)
        if source == "tensorboard":
            outcome = from_events(run_dir, config.get("trainer.max_epochs"))
        else:
            outcome = from_summary(run_dir)
        rows.append(({"run_dir": str(run_dir), **config}, outcome))
    read = {config["run_dir"] for config, _ in rows}
    for table in tables:
        rows += [row for row in from_table(table) if row[0]["run_dir"] not in read]
    config_keys = list(dict.fromkeys(key for config, _ in rows for key in config))
    frame = pd.DataFrame([{**{k: config.get(k, ABSENT) for k in config_keys}, **outcome}
                          for config, outcome in rows])
    for key in summary_keys():
        if key not in frame:
            frame[key] = float("nan")
    return frame
