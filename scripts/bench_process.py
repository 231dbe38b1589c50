"""What scripts/benchmark.py measures in fresh processes: the time to the first training step
against the bare imports, peak resident memory, and the per-job cost of a multirun. Each child
runs the real command line, `python -m wdbench ...`, with this repository first on its path."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

REPO = Path(__file__).resolve().parent.parent
BARE_IMPORTS = "import torch, pytorch_lightning, hydra"
POLL_SECONDS = 0.02


def child_env(threads: int) -> dict:
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": str(threads),
            "HYDRA_FULL_ERROR": "1"}


def launch(args: list[str], threads: int, workdir: Path) -> dict:
    """Run `python ARGS`: wall seconds from launch to exit, the launch time (epoch seconds), and
    the child's peak resident memory, polled from /proc (its rusage would count the memory of
    this big parent, which it was forked from)."""
    workdir.mkdir(parents=True, exist_ok=True)
    peak_kb = 0
    with open(workdir / "stdout.txt", "w") as out, open(workdir / "stderr.txt", "w") as err:
        launched, started = time.time(), time.perf_counter()
        child = subprocess.Popen([sys.executable, *args], cwd=workdir, env=child_env(threads),
                                 stdout=out, stderr=err)
        while child.poll() is None:
            peak_kb = max(peak_kb, high_water_kb(child.pid))
            time.sleep(POLL_SECONDS)
        wall = time.perf_counter() - started
    if child.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({child.returncode}):\n"
                           + (workdir / "stderr.txt").read_text()[-3000:])
    return {"launched": launched, "wall": wall, "peak_mb": peak_kb / 1024}


def high_water_kb(pid: int) -> int:
    """VmHWM: the process's peak resident set so far (0 once it has exited)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def bare_imports(threads: int, workdir: Path) -> dict:
    """A process that imports torch, Lightning and Hydra, the frameworks wdbench is built on,
    and nothing else: seconds from launch to the imports done."""
    done = launch(["-c", f"import time; {BARE_IMPORTS}; print(time.time())"], threads, workdir)
    done["ready"] = float((workdir / "stdout.txt").read_text().split()[-1]) - done["launched"]
    return done


def first_step(overrides: list[str], threads: int, workdir: Path) -> dict:
    """`python -m wdbench OVERRIDES`: seconds from launch to the first training step, read
    from the wall time of the epoch-0 scalars, which are written just before it."""
    run_dir = workdir / "run"
    done = launch(["-m", "wdbench", *overrides, f"threads={threads}",
                   f"hydra.run.dir={run_dir}"], threads, workdir)
    events = EventAccumulator(str(run_dir))
    events.Reload()
    done["ready"] = events.Scalars("loss/train")[0].wall_time - done["launched"]
    return done


def multirun(jobs: int, threads: int, workdir: Path, extra: tuple = ()) -> dict:
    """A `-m` sweep of `jobs` synthetic runs (the lecture's demo, one seed each) in one process;
    its wall time against the training seconds its jobs recorded in their summaries."""
    sweep_dir = workdir / "sweep"
    seeds = ",".join(str(s) for s in range(jobs))
    done = launch(["-m", "wdbench", "-m", f"seed={seeds}", f"threads={threads}", *extra,
                   f"hydra.sweep.dir={sweep_dir}"], threads, workdir)
    summaries = [json.loads(p.read_text()) for p in sweep_dir.glob("*/summary.json")]
    if len(summaries) != jobs:
        raise RuntimeError(f"multirun wrote {len(summaries)} summaries, expected {jobs}")
    done["train"] = sum(s["train_seconds"] for s in summaries)
    done["in_runs"] = sum(s["wall_time"] for s in summaries)
    done["epochs"] = sum(s["epochs"] for s in summaries)
    return done


def held_float_bytes(data) -> tuple[int, int]:
    """Bytes of float storage a TensorDataModule holds (its splits and its evaluation sets,
    each storage counted once) and the bytes of the features themselves. Equal = held once."""
    s = data.splits
    tensors = [v for v in vars(s).values() if isinstance(v, torch.Tensor)]
    tensors += [t for pair in data.eval_sets().values() for t in pair]
    storages = {t.untyped_storage().data_ptr(): t.untyped_storage().nbytes()
                for t in tensors if t.is_floating_point()}
    return sum(storages.values()), sum(t.nbytes for t in (s.train_x, s.val_x, s.test_x))
