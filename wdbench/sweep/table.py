"""The end of a sweep: a table of its jobs (the swept values, how each ended, test loss and
accuracy, the gap, ‖w‖), printed and written as sweep_summary.csv and sweep_summary.md in the
sweep directory, and the commands that go further."""

import csv
import os
import shlex
import sys
from pathlib import Path

from wdbench.metrics.catalog import placed
from wdbench.outputs.files import RunDir


def result_columns() -> list[tuple[str, str, str]]:
    """(summary key, column title, format): how each job ended, then its metrics."""
    return [("status", "status", "{}")] + [(m.key, m.sweep_title, m.sweep_format)
                                           for m in placed("sweep")]


def job_dirs(sweep_dir: Path) -> list[Path]:
    """Every job of the sweep: Hydra writes each job's overrides before the job runs."""
    found = {p.parents[1] for p in sweep_dir.rglob(str(RunDir.OVERRIDES))}
    return sorted(p for p in found if p != sweep_dir)


def read_job(job_dir: Path) -> tuple[dict, dict]:
    """(overrides as key -> value text, summary); a job killed before its summary has none."""
    run = RunDir(job_dir)
    pairs = dict(o.lstrip("+~").split("=", 1) for o in run.read_overrides() if "=" in o)
    return pairs, run.read_summary() or {"status": "no summary"}


def differing_keys(jobs: list[tuple[dict, dict]]) -> list[str]:
    """The keys whose values differ between the jobs (all of them for a single job)."""
    keys = list(dict.fromkeys(k for pairs, _ in jobs for k in pairs if k != "experiment"))
    differ = [k for k in keys if len({pairs.get(k) for pairs, _ in jobs}) > 1]
    return differ or keys


def sort_value(text):
    """Numbers in numeric order, then anything else as text."""
    try:
        return (0, float(text), "")
    except (TypeError, ValueError):
        return (1, 0.0, str(text))


def sweep_rows(sweep_dir: Path) -> tuple[list[str], list[dict]]:
    """(swept keys, one row per job sorted by the swept values)."""
    jobs = [read_job(d) for d in job_dirs(sweep_dir)]
    keys = differing_keys(jobs)
    rows = []
    for (pairs, summary), job_dir in zip(jobs, job_dirs(sweep_dir)):
        row = {key: pairs.get(key, "") for key in keys}
        row.update({key: summary.get(key) for key, _, _ in result_columns()})
        row["job"] = os.path.relpath(job_dir, sweep_dir)
        rows.append(row)
    rows.sort(key=lambda row: [sort_value(row[k]) for k in keys])
    return keys, rows


def shown_columns(keys: list[str], rows: list[dict]) -> list[tuple[str, str, str]]:
    """The swept keys, then the metric columns some job has (no accuracy for regression)."""
    metrics = [c for c in result_columns()
               if c[0] == "status" or any(r[c[0]] is not None for r in rows)]
    return [(k, k, "{}") for k in keys] + metrics


def cell(value, fmt: str) -> str:
    if value is None or value == "":
        return "–"
    try:
        return fmt.format(value)
    except (TypeError, ValueError):
        return str(value)


def text_table(columns, rows) -> str:
    cells = [[title for _, title, _ in columns]]
    cells += [[cell(row[key], fmt) for key, _, fmt in columns] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    lines = ["  ".join(text.rjust(width) for text, width in zip(line, widths)) for line in cells]
    return "\n".join(lines)


def markdown_table(columns, rows) -> str:
    lines = ["| " + " | ".join(title for _, title, _ in columns) + " |",
             "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row[key], fmt) for key, _, fmt in columns) + " |"
              for row in rows]
    return "\n".join(lines)


def write_csv(path: Path, keys: list[str], rows: list[dict]) -> None:
    names = keys + [key for key, _, _ in result_columns()] + ["job"]
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=names)
        writer.writeheader()
        writer.writerows(rows)


def shown_path(path: Path) -> str:
    """Relative to the working directory where that is shorter, as a user would type it."""
    relative = os.path.relpath(path)
    return relative if len(relative) < len(str(path)) else str(path)


def next_commands(sweep_dir: Path) -> list[str]:
    """The report and TensorBoard on this sweep, with this environment's executables (so they
    work without an activated environment)."""
    bin_dir = Path(sys.executable).parent
    python = shown_path(Path(sys.executable))
    tensorboard = bin_dir / "tensorboard"
    report = Path(__file__).resolve().parents[2] / "scripts" / "report.py"
    where = shlex.quote(shown_path(sweep_dir))
    tensorboard = shown_path(tensorboard) if tensorboard.exists() else "tensorboard"
    return [f"{python} {shlex.quote(shown_path(report))} {where}",
            f"{tensorboard} --logdir {where}"]


def summarize_sweep(sweep_dir: Path) -> str:
    """Write sweep_summary.csv and .md into the sweep directory; return the text to print."""
    keys, rows = sweep_rows(sweep_dir)
    columns = shown_columns(keys, rows)
    write_csv(sweep_dir / "sweep_summary.csv", keys, rows)
    commands = next_commands(sweep_dir)
    (sweep_dir / "sweep_summary.md").write_text(
        f"# Sweep {sweep_dir.name}\n\n{len(rows)} jobs, sorted by "
        f"{', '.join(keys) or 'job'}.\n\n{markdown_table(columns, rows)}\n\n"
        + "".join(f"    {c}\n" for c in commands))
    return "\n".join([f"sweep of {len(rows)} jobs in {shown_path(sweep_dir)}:",
                      text_table(columns, rows), "",
                      f"(also {shown_path(sweep_dir / 'sweep_summary.md')} and .csv) Go further:",
                      *[f"  {c}" for c in commands]])
