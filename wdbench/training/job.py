"""One run to make: its config, its directory, the overrides that made it and its config
groups' options. An ordinary run is one job; a stacked grid trains several as one model."""

from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import DictConfig


@dataclass
class Job:
    cfg: DictConfig
    run_dir: Path
    overrides: list[str]
    choices: dict = field(default_factory=dict)
