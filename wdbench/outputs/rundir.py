"""Run directories no two runs share: created exclusively, and claimed before anything is
written into them, so runs started in the same microsecond never mix their files."""

import json
import os
import platform
import shutil
import time
from pathlib import Path

from omegaconf import OmegaConf

from wdbench.errors import WdbenchError
from wdbench.outputs.files import RunDir
from wdbench.training.ddp import (
    TOKEN_ENV,
    launched_rank,
    new_token,
    same_run,
    slurm_tasks,
    started_apart,
)

RESOLVER = "wdbench_fresh_dir"
STAMP_RESOLVER = "wdbench_stamp"


class RunDirTaken(WdbenchError):
    """The directory already belongs to another run; nothing of this run may go into it."""


def fresh_dir(path: str, num_nodes=1) -> str:
    """Create `path`, or `path-1`, `path-2`, ... when taken, with an exclusive mkdir (atomic on
    every filesystem) and return the one created. Hydra's later mkdir(exist_ok) reuses it.
    The nodes of one run all name the same directory (see shared_dir)."""
    return make_fresh_dir(path, num_nodes)[0]


def make_fresh_dir(path: str, num_nodes=1) -> tuple[str, list[str]]:
    """fresh_dir's directory, and the directories made for it: its own and the parents that
    did not exist before, deepest first (none for a directory the nodes of a run share)."""
    if started_apart() or num_nodes != 1:
        return shared_dir(path, num_nodes), []
    parents = missing_dirs(os.path.dirname(path) or ".")
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    candidate, suffix = path, 0
    while True:
        try:
            os.mkdir(candidate)
            return candidate, [os.path.abspath(candidate), *parents]
        except FileExistsError:
            suffix += 1
            candidate = f"{path}-{suffix}"


def missing_dirs(path: str) -> list[str]:
    """`path` and those of its parents that do not exist yet, deepest first."""
    missing, path = [], os.path.abspath(path)
    while not os.path.exists(path):
        missing.append(path)
        path = os.path.dirname(path)
    return missing


class MadeRunDirs:
    """The run directories one command line made, behind `${wdbench_fresh_dir:...}` (cli.main
    creates one and registers it): a single run refused for a bad value takes its own away."""

    def __init__(self):
        self.made: dict[str, list[str]] = {}  # run directory -> the directories made for it

    def fresh_dir(self, path: str, num_nodes=1) -> str:
        created, made = make_fresh_dir(path, num_nodes)
        if made:
            self.made[made[0]] = made
        return created

    def remove_refused(self, run_dir: Path) -> bool:
        """Take away a run directory made here, with the parents made for it that are empty
        again; False (nothing touched) for any other directory, such as an explicit
        hydra.run.dir, which may hold what was there before."""
        made = self.made.pop(os.path.abspath(run_dir), None)
        if made is None:
            return False
        shutil.rmtree(made[0], ignore_errors=True)
        for parent in made[1:]:
            try:
                os.rmdir(parent)
            except OSError:  # another run has put something there since
                break
        return True


def shared_dir(path: str, num_nodes) -> str:
    """The directory of a run whose processes their launcher started: named by what it gave
    them all. srun's job and step ids are in `path` (see stamp); for any other launcher only
    an explicit hydra.run.dir is, since the default names the time a process started. Rank 0
    creates it; the others wait for its claim (claim)."""
    if slurm_tasks() == 1:
        raise WdbenchError(
            f"trainer.num_nodes={num_nodes} needs a run directory every node knows: give each "
            "node the same hydra.run.dir=DIR (one that all of them see), or start the nodes "
            "with srun")
    if launched_rank() == 0:
        os.makedirs(path, exist_ok=True)  # claim's exclusive marker refuses another run's
    return path


def stamp() -> str:
    """`${wdbench_stamp:}`, the start of a run directory's name: the time it starts, or under
    srun the job and step, which every task of the run knows alike."""
    if slurm_tasks() > 1:
        return f"slurm-{os.environ.get('SLURM_JOB_ID')}.{os.environ.get('SLURM_STEP_ID', '0')}"
    return time.strftime("%Y-%m-%d_%H-%M-%S")


def register_resolver(run_dirs: MadeRunDirs | None = None) -> None:
    """`${wdbench_fresh_dir:...}` in conf/config.yaml's hydra.run.dir and hydra.sweep.dir.
    Cached, and Hydra copies the cache into every sweep job, so each asks once per process.
    With `run_dirs`, the directories made are recorded there (it replaces any earlier one)."""
    if run_dirs is not None or not OmegaConf.has_resolver(RESOLVER):
        resolver = run_dirs.fresh_dir if run_dirs is not None else fresh_dir
        OmegaConf.register_new_resolver(RESOLVER, resolver, use_cache=True, replace=True)
    if not OmegaConf.has_resolver(STAMP_RESOLVER):
        OmegaConf.register_new_resolver(STAMP_RESOLVER, stamp, use_cache=True)


def owner_has_ended(owner: dict, run_dir: Path) -> bool:
    """The run that claimed `run_dir` is over without a result: its summary says failed or
    interrupted, or it left none and its process is gone from this host. A completed or
    diverged run, or one still running, keeps its directory."""
    status = RunDir(run_dir).status()
    if status is not None:
        return status in ("failed", "interrupted")
    if owner.get("host") != platform.node() or owner.get("pid") == os.getpid():
        return False
    try:
        os.kill(int(owner.get("pid", 0)), 0)
    except (ProcessLookupError, ValueError):
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


def claim(run_dir: Path, wait_s: float = 0) -> None:
    """Mark `run_dir` as this run's, or fail if another run marked it first (an explicit
    hydra.run.dir used twice, or a sweep that lists the same job twice). A DDP rank other
    than 0 joins its own run's directory and writes nothing (wdbench/training/ddp.py); one that its
    launcher started waits up to `wait_s` seconds for rank 0's claim."""
    marker = RunDir(run_dir).claim
    if launched_rank() > 0 and started_apart():
        os.environ[TOKEN_ENV] = wait_for_owner(marker, wait_s).get("token", "")
        return
    if launched_rank() > 0:
        if not same_run(read_owner(marker)):
            raise RunDirTaken(f"run directory {run_dir} is not the one of the DDP run that "
                              "started this rank (its claim marker has another token)")
        return
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        owner = read_owner(marker)
        if owner_has_ended(owner, Path(run_dir)):  # re-running a sweep's failed or killed job
            marker.unlink(missing_ok=True)
            return claim(run_dir)
        raise RunDirTaken(
            f"run directory {run_dir} already belongs to another run (pid {owner.get('pid')} "
            f"on {owner.get('host')}, started {owner.get('started')}): a sweep that lists the "
            "same job twice, or hydra.run.dir / hydra.sweep.dir given again; choose a new one"
        ) from None
    with os.fdopen(fd, "w") as f:
        json.dump({"pid": os.getpid(), "host": platform.node(),
                   "started": time.strftime("%Y-%m-%dT%H:%M:%S"), "token": new_token()}, f)


def wait_for_owner(marker: Path, wait_s: float) -> dict:
    """Rank 0's claim marker, once it is there (and complete: claim writes it after creating it)."""
    deadline = time.monotonic() + wait_s
    while not (owner := read_owner(marker)):
        if time.monotonic() > deadline:
            raise WdbenchError(
                f"node 0's run directory {marker.parent} did not appear within "
                f"ddp_timeout={wait_s} s: start node 0 too, with the same hydra.run.dir, on a "
                "filesystem every node sees")
        time.sleep(0.2)
    return owner


def read_owner(marker: Path) -> dict:
    try:
        return json.loads(marker.read_text() or "{}")
    except (OSError, ValueError):
        return {}
