"""Which jobs of a sweep train together: those whose configs differ only in a per-member
hyperparameter (the regulariser's strength or radius). Different seeds, optimizers or data
settings make different stacks, so every member matches its ordinary run exactly."""

import json
from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

PER_MEMBER = ("strength", "radius")  # regularizer keys a stack holds one value of per member


@dataclass
class Job:
    cfg: DictConfig
    run_dir: Path
    overrides: list[str]
    choices: dict = field(default_factory=dict)


def stack_key(cfg: DictConfig) -> str:
    resolved = OmegaConf.to_container(cfg, resolve=True)
    for key in PER_MEMBER:
        resolved["regularizer"].pop(key, None)
    resolved.pop("threads", None)
    return json.dumps(resolved, sort_keys=True, default=str)


def group_jobs(jobs: list[Job], max_members: int) -> list[list[Job]]:
    """Stacks in the sweep's order, each at most `max_members` jobs."""
    groups: dict[str, list[list[Job]]] = {}
    for job in jobs:
        stacks = groups.setdefault(stack_key(job.cfg), [[]])
        if len(stacks[-1]) == max_members:
            stacks.append([])
        stacks[-1].append(job)
    return [stack for stacks in groups.values() for stack in stacks]


def member_values(jobs: list[Job], key: str) -> list | None:
    """The per-member values of `key`, or None when the kind has no such key."""
    if key not in jobs[0].cfg.regularizer:
        return None
    return [job.cfg.regularizer[key] for job in jobs]
