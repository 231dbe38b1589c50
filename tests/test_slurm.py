"""Sweeps through `hydra/launcher=slurm` on a real SLURM cluster: the one-node cluster of
scripts/slurm_local.sh (which .ci/run starts) or any other this machine submits to. Tiny
jobs: synthetic data, two epochs, one core each."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

NOT_RUNNING = "no SLURM cluster here: start one with `bash scripts/slurm_local.sh` (as root)"
SLURM = ["hydra/launcher=slurm", "hydra.launcher.cpus_per_task=1", "hydra.launcher.mem_gb=1",
         "hydra.launcher.timeout_min=10", "trainer.max_epochs=2"]


def slurm_running() -> bool:
    if shutil.which("sinfo") is None:
        return False
    states = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True,
                            check=False).stdout.split()
    return any(s in ("idle", "mixed", "allocated", "completing") for s in states)


@pytest.fixture(autouse=True)
def needs_slurm():
    if not slurm_running():
        if os.environ.get("CI"):
            pytest.fail(NOT_RUNNING + " (CI must: see .ci/run)")
        pytest.skip(NOT_RUNNING)


def sweep_env() -> dict:
    """Without OMP_NUM_THREADS, so that a job's threads come from cpus_per_task alone."""
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    return {**env, "HYDRA_FULL_ERROR": "0"}


def sweep(args: list[str], cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "wdbench", "-m", *SLURM, *args], cwd=cwd,
                          env=sweep_env(), capture_output=True, text=True, timeout=timeout,
                          check=False)


def summaries(sweep_dir: Path) -> dict[str, dict]:
    """By the job's first override (its directory name starts with it)."""
    return {p.parent.name.split(",")[0]: {**json.loads(p.read_text()), "dir": p.parent}
            for p in sweep_dir.glob("*/summary.json")}


@pytest.mark.slow
def test_sweep_on_slurm_reports_its_failed_job(tmp_path):
    """Three jobs of one array: two complete with one thread each (cpus_per_task=1, where a
    plain run takes every core), one fails on a bad value; the sweep says so and exits 1."""
    result = sweep(["optimizer.lr=0.03,0.01,-1", "hydra.sweep.dir=runs/grid"], tmp_path)
    assert result.returncode == 1, result.stderr
    done = summaries(tmp_path / "runs" / "grid")
    assert sorted(done) == ["optimizer.lr=-1", "optimizer.lr=0.01", "optimizer.lr=0.03"]
    assert done["optimizer.lr=-1"]["status"] == "failed"
    assert "optimizer.lr=-1" in done["optimizer.lr=-1"]["error"]
    for name in ("optimizer.lr=0.01", "optimizer.lr=0.03"):
        assert done[name]["status"] == "completed" and done[name]["threads"] == 1
        assert done[name]["epochs"] == 2
    assert len(os.sched_getaffinity(0)) > 1 or "one core: threads=1 proves nothing"
    failed = str(done["optimizer.lr=-1"]["dir"].resolve())
    assert f"error: 1 job(s) failed: {failed}" in result.stderr
    # submitit's warning that sacct cannot answer, at most once, not on every poll
    assert (result.stdout + result.stderr).count("Bypassing sacct error") <= 2
