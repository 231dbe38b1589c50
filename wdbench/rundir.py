"""Run directories no two runs share: created exclusively, and claimed before anything is
written into them, so runs started in the same microsecond never mix their files."""

import json
import os
import platform
import shutil
import time
from pathlib import Path

from omegaconf import OmegaConf

from wdbench.ddp import child_rank, new_token, same_run
from wdbench.errors import WdbenchError

CLAIM_FILE = ".wdbench-run"  # who owns the directory: pid, host, start time, token
RESOLVER = "wdbench_fresh_dir"
# Directories fresh_dir made in this process, by run directory: the run's own and the parents
# that did not exist before it, deepest first (what a refused run may take away again).
made_here: dict[str, list[str]] = {}


class RunDirTaken(WdbenchError):
    """The directory already belongs to another run; nothing of this run may go into it."""


def fresh_dir(path: str) -> str:
    """Create `path`, or `path-1`, `path-2`, ... when taken, with an exclusive mkdir (atomic on
    every filesystem) and return the one created. Hydra's later mkdir(exist_ok) reuses it."""
    parents = missing_dirs(os.path.dirname(path) or ".")
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    candidate, suffix = path, 0
    while True:
        try:
            os.mkdir(candidate)
            made_here[os.path.abspath(candidate)] = [os.path.abspath(candidate), *parents]
            return candidate
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


def remove_refused(run_dir: Path) -> bool:
    """Take away a run directory that fresh_dir made in this process, with the parents made
    for it that are empty again; False (nothing touched) for any other directory, such as an
    explicit hydra.run.dir, which may hold what was there before."""
    made = made_here.pop(os.path.abspath(run_dir), None)
    if made is None:
        return False
    shutil.rmtree(made[0], ignore_errors=True)
    for parent in made[1:]:
        try:
            os.rmdir(parent)
        except OSError:  # another run has put something there since
            break
    return True


def register_resolver() -> None:
    """`${wdbench_fresh_dir:...}` in conf/config.yaml's hydra.run.dir and hydra.sweep.dir.
    Cached, and Hydra copies the cache into every sweep job, so each asks once per process."""
    if not OmegaConf.has_resolver(RESOLVER):
        OmegaConf.register_new_resolver(RESOLVER, fresh_dir, use_cache=True)


def owner_has_ended(owner: dict, run_dir: Path) -> bool:
    """The run that claimed `run_dir` is over without a result: its summary says failed or
    interrupted, or it left none and its process is gone from this host. A completed or
    diverged run, or one still running, keeps its directory."""
    try:
        status = json.loads((run_dir / "summary.json").read_text()).get("status")
    except (OSError, ValueError):
        status = None
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


def claim(run_dir: Path) -> None:
    """Mark `run_dir` as this run's, or fail if another run marked it first (an explicit
    hydra.run.dir used twice, or a sweep that lists the same job twice). A DDP rank other
    than 0 joins its own run's directory and writes nothing (wdbench/ddp.py)."""
    marker = Path(run_dir) / CLAIM_FILE
    if child_rank() > 0:
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


def read_owner(marker: Path) -> dict:
    try:
        return json.loads(marker.read_text() or "{}")
    except (OSError, ValueError):
        return {}
