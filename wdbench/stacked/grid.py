"""Which jobs of a sweep train together: those whose configs differ only in a hyperparameter
their regulariser kind declares per-member (regularizers/registry.py). Different seeds,
optimizers, data settings or other values make different stacks, so every member matches its
ordinary run exactly; a kind that cannot be stacked trains each job on its own."""

import json

from omegaconf import DictConfig, OmegaConf

from wdbench.config.build import build
from wdbench.regularizers import kind_info
from wdbench.training.job import Job


def per_member_keys(cfg: DictConfig) -> tuple[str, ...]:
    return kind_info(cfg.regularizer._target_).per_member


def stack_key(cfg: DictConfig) -> str:
    resolved = OmegaConf.to_container(cfg, resolve=True)
    for key in per_member_keys(cfg):
        resolved["regularizer"].pop(key, None)
    resolved.pop("threads", None)
    return json.dumps(resolved, sort_keys=True, default=str)


def group_jobs(jobs: list[Job], max_members: int) -> list[list[Job]]:
    """Stacks in the sweep's order, each at most `max_members` jobs (one, for a kind that
    cannot be stacked)."""
    groups: dict[str, list[list[Job]]] = {}
    for job in jobs:
        stackable = kind_info(job.cfg.regularizer._target_).stackable
        stacks = groups.setdefault(stack_key(job.cfg) if stackable else str(id(job)), [[]])
        if len(stacks[-1]) == max_members:
            stacks.append([])
        stacks[-1].append(job)
    return [stack for stacks in groups.values() for stack in stacks]


def stacked_regularizer(jobs: list[Job]):
    """The first job's regulariser holding every member's value of its kind's per-member keys.
    Every member's own is built (and so checked) as its ordinary run would build it."""
    if len({stack_key(job.cfg) for job in jobs}) > 1:
        raise ValueError("jobs that differ beyond their kind's per-member keys cannot share a "
                         "stack: group them with group_jobs")
    regularizers = [build(job.cfg.regularizer) for job in jobs]
    keys = [key for key in per_member_keys(jobs[0].cfg) if hasattr(regularizers[0], key)]
    regularizers[0].stack_members(len(jobs), {key: [getattr(r, key) for r in regularizers]
                                              for key in keys})
    return regularizers[0]
