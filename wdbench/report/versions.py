"""The software versions a report's runs were made with, as each run's summary.json recorded
them: a report says what produced its numbers."""

from collections import Counter
from pathlib import Path

from wdbench.outputs.files import RunDir


def run_versions(run_dir: Path) -> str | None:
    versions = (RunDir(run_dir).read_summary() or {}).get("versions")
    return ", ".join(f"{name} {version}" for name, version in versions.items()) if versions \
        else None


def versions_line(run_dirs) -> str:
    """`Versions: python 3.11.7, torch 2.14.1, ... (all 24 runs).`; one entry per distinct
    set where the runs differ, with how many runs used it."""
    counts = Counter(run_versions(Path(d)) for d in run_dirs)
    unknown = counts.pop(None, 0)
    if not counts:
        return "Versions: not recorded (no summary.json with versions)."
    total = sum(counts.values())
    if len(counts) == 1:
        [(text, _)] = counts.items()
        parts = [f"{text} (all {total} runs with a summary)"]
    else:
        parts = [f"{text} ({n} runs)" for text, n in counts.most_common()]
    extra = f"; {unknown} runs without a record" if unknown else ""
    return "Versions: " + "; ".join(parts) + extra + "."
