"""One DDP run, several processes, one run directory. Lightning starts ranks 1.. by running
the command again with hydra.run.dir set to rank 0's directory. Rank 0 claims it and writes
every file; the other ranks only check that it is their own run's and write nothing there.
Their proof is a token: rank 0 writes it into its claim marker and into the environment that
the processes it starts inherit, so a second, separate run given the same directory is still
refused.

On several nodes the launcher (srun, or whoever sets NODE_RANK) starts each node's first
process itself: those share nothing with rank 0 but what the launcher gave them all, so they
join the directory that names (wdbench/outputs/rundir.py) once rank 0 has claimed it, and take the
token from its marker for the ranks they start in turn."""

import os
import secrets
import sys
from datetime import timedelta

import torch
import torch.distributed as dist

from wdbench.errors import ConfigError

TOKEN_ENV = "WDBENCH_RUN_TOKEN"


def new_token() -> str:
    """A fresh token for the run this process claims; its child ranks inherit it."""
    token = secrets.token_hex(16)
    os.environ[TOKEN_ENV] = token
    return token


def child_rank() -> int:
    """This process's local rank when Lightning started it for a wdbench run, else 0."""
    if TOKEN_ENV not in os.environ:
        return 0
    return int(os.environ.get("LOCAL_RANK") or 0)


def slurm_tasks() -> int:
    """The tasks srun started for this run (1 outside srun, or in `srun --job-name=bash`, where
    Lightning, too, ignores SLURM)."""
    if os.environ.get("SLURM_JOB_NAME") in ("bash", "interactive"):
        return 1
    return int(os.environ.get("SLURM_NTASKS") or 1)


def started_apart() -> bool:
    """A process of a run that its launcher, not rank 0, started: srun's tasks, and the first
    process of every node but node 0."""
    if TOKEN_ENV in os.environ:  # started by a rank of its own run
        return False
    return slurm_tasks() > 1 or int(os.environ.get("NODE_RANK") or 0) > 0


def launched_rank() -> int:
    """This process's global rank as its launcher says it, before Lightning knows: > 0 for
    every process but the one that writes the run's files."""
    if slurm_tasks() > 1:
        return int(os.environ.get("SLURM_PROCID") or 0)
    return int(os.environ.get("NODE_RANK") or 0) or child_rank()


def ddp_strategy(trainer_cfg: dict, timeout_s: float) -> dict:
    """`strategy: ddp` with a rendezvous (and collective) timeout of `timeout_s` instead of
    torch's 30 minutes: a rank whose peer never comes fails soon, with one line (train.py)."""
    if trainer_cfg.get("strategy") != "ddp":
        return trainer_cfg
    if not isinstance(timeout_s, (int, float)) or timeout_s <= 0:
        raise ConfigError("ddp_timeout", timeout_s, "a number of seconds > 0")
    from pytorch_lightning.strategies import DDPStrategy

    return {**trainer_cfg, "strategy": DDPStrategy(timeout=timedelta(seconds=timeout_s))}


def same_run(owner: dict) -> bool:
    """The claim marker's run is the one that started this rank."""
    token = os.environ.get(TOKEN_ENV)
    return token is not None and owner.get("token") == token


def quiet_child_logging() -> None:
    """Hydra would give a child rank its own log file in rank 0's directory: no file, and
    warnings still reach stderr. A rank its launcher started also gets no .hydra/ of its own
    (Lightning's children get hydra.output_subdir=null from Lightning)."""
    if launched_rank() > 0:
        sys.argv.append("hydra/job_logging=none")
    if launched_rank() > 0 and started_apart():
        sys.argv.append("hydra.output_subdir=null")


def sum_over_ranks(trainer, tensor: torch.Tensor) -> torch.Tensor:
    """The sum over all ranks under DDP (non-finite if it is on any rank), else itself: every
    rank then takes the same decision and stops at the same step."""
    if trainer.world_size == 1:
        return tensor
    total = tensor.detach().clone()
    dist.all_reduce(total)
    return total


def mean_over_ranks(trainer, values: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Each rank's epoch means, averaged: ranks train equal steps, so this is the mean over
    the whole epoch's minibatches, the same on every rank."""
    return {key: sum_over_ranks(trainer, value) / trainer.world_size
            for key, value in values.items()}


def agreed_signal(trainer, signum: int | None) -> int | None:
    """A stop signal that reached any rank (Ctrl+C reaches all, `kill` one), so that all stop
    after the same batch; the highest signal number when several came."""
    if trainer.world_size == 1:
        return signum
    flag = torch.tensor([signum or 0], device=trainer.strategy.root_device)
    dist.all_reduce(flag, op=dist.ReduceOp.MAX)
    return int(flag.item()) or None


def check_one_process(trainer_cfg) -> None:
    """A sweep's job runs in one process. Lightning starts a run's other ranks by running the
    command line again, and a sweep's command line is the whole sweep: refused."""
    devices = trainer_cfg.get("devices", 1)
    count = devices if isinstance(devices, int) else 1 if isinstance(devices, str) else len(devices)
    if count > 1:
        raise ConfigError("trainer.devices", devices, "1 in a sweep (one process per job); "
                          "run a multi-device run on its own, without -m")
