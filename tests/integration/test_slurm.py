"""Sweeps through `hydra/launcher=slurm` on a real SLURM cluster: the one-node cluster of
scripts/slurm_local.sh (which .ci/run starts) or any other this machine submits to. Tiny
jobs: synthetic data, two epochs, one core each."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from tests.helpers.runs import REPO

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


@contextmanager
def sigint_not_ignored():
    """A child started inside gets SIGINT as from a terminal, even where pytest itself was
    started in the background, which leaves SIGINT ignored for it and its children: a Python
    handler here becomes the default action in the child, which Python turns into Ctrl+C."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


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
    # submitit's warning that sacct cannot answer: the first poll's, not every poll's
    assert "Call #1 - Bypassing sacct error" in result.stdout + result.stderr
    assert "Call #2 - Bypassing sacct error" not in result.stdout + result.stderr


def array_id(sweep_dir: Path, proc: subprocess.Popen, timeout: float = 120) -> str:
    """The SLURM job id of the array the sweep submitted, once submitit has its folder."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the sweep ended before submitting: {proc.stdout.read()}")
        ids = {p.name.split("_")[0] for p in (sweep_dir / ".submitit").glob("[0-9]*_[0-9]*")}
        if ids:
            return ids.pop()
        time.sleep(0.2)
    raise AssertionError(f"no job submitted in {timeout} s")


def results_of(run_dir: Path) -> dict[Path, bytes]:
    """What wdbench wrote: summary, history, events, figure, checkpoint."""
    return {p: p.read_bytes() for p in run_dir.rglob("*")
            if p.is_file() and ".hydra" not in p.parts and p.suffix != ".log"}


def wait_for(path: Path, timeout: float = 180) -> None:
    deadline = time.time() + timeout
    while not path.exists():
        assert time.time() < deadline, f"{path} not written in {timeout} s"
        time.sleep(0.5)


def submitted(sweep_dir: Path) -> dict[str, str]:
    """SLURM job id (array_task for an array's) -> its log, of every job submitit submitted:
    it writes one `ID_submitted.pkl` per job, whether the job ran or not."""
    return {p.name.removesuffix("_submitted.pkl"): "".join(
                log.read_text() for log in p.parent.glob("*_log.out"))
            for p in (sweep_dir / ".submitit").glob("*/*_submitted.pkl")}


@pytest.mark.slow
def test_interrupted_sweep_reruns_only_its_unfinished_job(tmp_path):
    """Ctrl+C on the submitting process, then `scancel` of the array, once the first of two jobs
    (run one at a time) finished: the second never ran. The same command again (README's
    example) submits an array of one job, the second, which completes; the first, found
    completed, is not submitted, its results stay as they were, and the sweep's table shows
    both jobs completed. A third run submits nothing."""
    args = ["seed=0,1", "hydra.sweep.dir=runs/grid", "hydra.launcher.array_parallelism=1"]
    command = [sys.executable, "-m", "wdbench", "-m", *SLURM, *args]
    with sigint_not_ignored():
        proc = subprocess.Popen(command, cwd=tmp_path, env=sweep_env(), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
    sweep_dir = tmp_path / "runs" / "grid"
    job = None
    try:
        job = array_id(sweep_dir, proc)
        # hold the second job: it must not start before the sweep is stopped
        subprocess.run(["scontrol", "hold", f"{job}_1"], check=True, capture_output=True)
        first = sweep_dir / "seed=0,trainer.max_epochs=2" / "summary.json"
        wait_for(first)
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
    finally:
        if job is not None:
            subprocess.run(["scancel", job], check=False)
        if proc.poll() is None:
            proc.kill()
    assert json.loads(first.read_text())["status"] == "completed"
    second = sweep_dir / "seed=1,trainer.max_epochs=2" / "summary.json"
    assert not second.exists()
    before = results_of(first.parent)
    assert sorted(submitted(sweep_dir)) == [f"{job}_0", f"{job}_1"]

    result = sweep(args, tmp_path)
    assert result.returncode == 0, result.stderr
    rerun = [log for name, log in submitted(sweep_dir).items() if not name.startswith(f"{job}_")]
    assert len(rerun) == 1, "the re-run submits one job, the unfinished one"
    assert f"completed: {second.resolve()}" in rerun[0]
    hydra_yaml = OmegaConf.load(second.parent / ".hydra" / "hydra.yaml")
    assert hydra_yaml.hydra.job.num == 1, "the job keeps its number in the sweep"
    assert "1 of 2 jobs finished in an earlier run of this sweep" in result.stdout
    done = summaries(sweep_dir)
    assert sorted(done) == ["seed=0", "seed=1"]
    assert all(s["status"] == "completed" for s in done.values())
    assert results_of(first.parent) == before
    table = result.stdout[result.stdout.index("sweep of 2 jobs"):].splitlines()
    assert [line.split()[:2] for line in table[2:4]] == [["0", "completed"], ["1", "completed"]]

    jobs_so_far = submitted(sweep_dir)
    again = sweep(args, tmp_path)  # all finished: nothing goes to the cluster
    assert again.returncode == 0, again.stderr
    assert "2 of 2 jobs finished in an earlier run of this sweep" in again.stdout
    assert submitted(sweep_dir).keys() == jobs_so_far.keys()
    assert again.stdout[again.stdout.index("sweep of 2 jobs"):].splitlines()[2:4] == table[2:4]


@pytest.mark.slow
def test_cluster_script_is_idempotent_and_restarts(tmp_path):
    """README's `scripts/slurm_local.sh`: while the node is up it returns at once; `stop`
    stops its daemons; started again, the node is idle again (packages already there)."""
    if os.geteuid() != 0:
        pytest.skip("scripts/slurm_local.sh starts daemons: it runs as root")
    script = ["bash", str(REPO / "scripts" / "slurm_local.sh")]
    again = subprocess.run(script, capture_output=True, text=True, timeout=60, check=False)
    assert again.returncode == 0 and "already running" in again.stdout, again.stderr
    idle_deadline = time.time() + 120  # the other tests' jobs done, so none is cut short
    while subprocess.run(["squeue", "-h"], capture_output=True, text=True,
                         check=False).stdout.strip():
        assert time.time() < idle_deadline, "jobs still in the queue"
        time.sleep(1)
    stopped = subprocess.run([*script, "stop"], capture_output=True, text=True, timeout=60,
                             check=False)
    assert stopped.returncode == 0, stopped.stderr
    assert not slurm_running()
    started = subprocess.run(script, capture_output=True, text=True, timeout=300, check=False)
    assert started.returncode == 0, started.stderr
    assert "slurm: running, node" in started.stdout and slurm_running()


def emulated_node(command: list[str]) -> list[str]:
    """One task of `srun --nodes=1 --ntasks=2` as a task of `srun --nodes=2
    --ntasks-per-node=1`: on a real cluster SLURM sets these itself. A job named `bash` would
    be taken for an interactive shell, not a run's tasks (by Lightning too)."""
    node = ("SLURM_NODEID=$SLURM_PROCID SLURM_NNODES=2 SLURM_NTASKS_PER_NODE=1 SLURM_LOCALID=0 "
            "exec " + " ".join(command))
    return ["srun", "--nodes=1", "--ntasks=2", "--cpus-per-task=1", "--job-name=wdbench",
            "bash", "-c", node]


@pytest.mark.slow
def test_srun_tasks_as_two_nodes_equal_one_process(tmp_path):
    """srun starts both tasks, as on two nodes: they agree on the directory their job and step
    name, rank 0 alone writes, and the weights are those of one process with the global batch
    (tolerance as in test_ddp.py)."""
    import torch

    from tests.helpers.ddp import NODES, SYNTHETIC, weights
    from tests.helpers.runs import run_config

    command = [sys.executable, "-m", "wdbench", *SYNTHETIC, *NODES]
    result = subprocess.run(emulated_node(command), cwd=tmp_path, env=sweep_env(),
                            capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    [run_dir] = (tmp_path / "runs" / "default").iterdir()
    assert run_dir.name.startswith("slurm-")
    assert json.loads((run_dir / "summary.json").read_text())["status"] == "completed"
    assert len(list(run_dir.glob("events.out.tfevents*"))) == 1
    run_config(tmp_path / "single", [*SYNTHETIC, "data.batch_size=20", "threads=1"])
    for name, value in weights(tmp_path / "single").items():
        torch.testing.assert_close(weights(run_dir)[name], value, rtol=0, atol=1e-5)
