"""A run directory's files: every name in one place, and the one reader of a run that ended
(its summary, its overrides), for the sweep, the report and resume alike."""

import json
from pathlib import Path

from omegaconf import OmegaConf

from wdbench.outputs.summary import write_json_atomic


def located(name) -> property:
    """The full path of the file `name` in a RunDir's directory, as a property."""
    return property(lambda run: run.path / name, doc=f"the run's {name}")


class RunDir:
    """One run's directory. The names are relative to it; the properties are full paths."""

    SUMMARY = "summary.json"  # written last, atomically: a run with one has ended
    HISTORY = "history.csv"
    FIGURE = "curves.png"
    CHECKPOINT = Path("checkpoints") / "last.ckpt"
    CLAIM = ".wdbench-run"  # who owns the directory: pid, host, start time, token
    HYDRA = ".hydra"
    OVERRIDES = Path(HYDRA) / "overrides.yaml"  # Hydra writes it before the job runs
    CONFIG = Path(HYDRA) / "config.yaml"
    HYDRA_CONFIG = Path(HYDRA) / "hydra.yaml"

    def __init__(self, path):
        self.path = Path(path)

    summary = located(SUMMARY)
    history = located(HISTORY)
    figure = located(FIGURE)
    checkpoint = located(CHECKPOINT)
    claim = located(CLAIM)
    overrides = located(OVERRIDES)
    config = located(CONFIG)
    hydra_config = located(HYDRA_CONFIG)

    def read_summary(self) -> dict | None:
        """The summary, or None: never run, killed before it, or a partial file."""
        try:
            return json.loads(self.summary.read_text())
        except (OSError, ValueError):
            return None

    def status(self) -> str | None:
        return (self.read_summary() or {}).get("status")

    def write_summary(self, summary: dict) -> None:
        write_json_atomic(self.summary, summary)

    def read_overrides(self) -> list[str]:
        """The overrides Hydra recorded for the run (the command line's, or its sweep job's)."""
        return list(OmegaConf.to_container(OmegaConf.load(self.overrides)))


def summaries_under(sweep_dir: Path, recursive: bool = False) -> list[Path]:
    """The summary.json files of a sweep's job directories (at any depth with `recursive`)."""
    found = sweep_dir.rglob(RunDir.SUMMARY) if recursive else sweep_dir.glob(f"*/{RunDir.SUMMARY}")
    return sorted(found)
