"""What README promises about stopping and about run directories, through the real command
line: HYDRA_FULL_ERROR=1, an explicit hydra.run.dir used twice, a second Ctrl+C, a signal
that stops a sweep."""

import json
import os
import signal
import subprocess
import sys
import time

from tests.helpers.runs import run_main

# Epochs long enough (6,000 images of an MLP) for a signal to land inside one.
LONG = ["model=mlp", "data.train_size=6000", "trainer.max_epochs=3", "threads=1"]


def test_hydra_full_error_shows_the_traceback(tmp_path):
    env = {**os.environ, "HYDRA_FULL_ERROR": "1"}
    full = subprocess.run([sys.executable, "-m", "wdbench", "regularizer=nope"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=300, check=False)
    assert full.returncode != 0 and "Traceback (most recent call last)" in full.stderr
    short = run_main(["regularizer=nope"], cwd=tmp_path)
    assert short.returncode == 2 and "Traceback" not in short.stderr
    assert short.stderr.count("\n") == 1


def test_explicit_run_dir_used_twice_leaves_the_first_run_untouched(tmp_path):
    run_dir = tmp_path / "mine"
    first = run_main(["trainer.max_epochs=2", f"hydra.run.dir={run_dir}"], cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    kept = {p.relative_to(run_dir): p.read_bytes() for p in run_dir.rglob("*")
            if p.is_file() and ".hydra" not in p.parts and p.suffix != ".log"}
    assert {"summary.json", "history.csv"} <= {p.name for p in kept}
    second = run_main(["trainer.max_epochs=3", "seed=1", f"hydra.run.dir={run_dir}"],
                      cwd=tmp_path)
    assert second.returncode == 2
    assert "already belongs to another run" in second.stderr.strip().splitlines()[-1]
    now = {p.relative_to(run_dir): p.read_bytes() for p in run_dir.rglob("*")
           if p.is_file() and ".hydra" not in p.parts and p.suffix != ".log"}
    assert now == kept  # every file of the first run, byte for byte; nothing added
    assert json.loads((run_dir / "summary.json").read_text())["epochs"] == 2


def start(tmp_path, args: list[str]) -> subprocess.Popen:
    env = {**os.environ, "HYDRA_FULL_ERROR": "0"}
    return subprocess.Popen([sys.executable, "-m", "wdbench", *args], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_for(proc: subprocess.Popen, text: str) -> list[str]:
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if text in line:
            return seen
    raise AssertionError(f"{text!r} never printed:\n" + "".join(seen))


# A first block of 65,536 minibatches of one row: seconds long, so both signals land inside
# it (the run is stopped long before its end).
SLOW_BLOCKS = ["data.train_size=70000", "data.num_inputs=20", "data.batch_size=1",
               "trainer.max_epochs=1", "threads=1"]


def test_second_ctrl_c_stops_at_once_without_a_checkpoint(tmp_path):
    proc = start(tmp_path, SLOW_BLOCKS)
    wait_for(proc, "epoch   0/1")  # printed just before training starts
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.3)  # two signals at once would arrive as one
    proc.send_signal(signal.SIGINT)
    output = proc.communicate(timeout=300)[0]
    assert proc.returncode not in (0, 130), output  # 130: the first signal's orderly stop
    [run_dir] = (tmp_path / "runs" / "default").iterdir()
    assert not (run_dir / "checkpoints" / "last.ckpt").exists(), output
    summary = run_dir / "summary.json"
    assert not summary.exists() or json.loads(summary.read_text())["status"] != "completed"


def test_a_signal_stops_the_sweep_and_keeps_finished_jobs(tmp_path):
    """SIGTERM during the second of three jobs: the first keeps its summary, the second is
    interrupted with the command that continues it, the third never starts; exit 143."""
    sweep = tmp_path / "sweep"
    proc = start(tmp_path, ["-m", *LONG, "seed=0,1,2", f"hydra.sweep.dir={sweep}"])
    seen = wait_for(proc, "epoch   3/3")  # the first job's last epoch
    seen += wait_for(proc, "epoch   1/3")  # the second job's first
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=300)
    assert proc.returncode == 143
    jobs = [p for p in sweep.iterdir() if p.is_dir() and not p.name.startswith(".")]
    assert len(jobs) == 2, sorted(p.name for p in jobs)  # the third never started
    by_seed = {s["seed"]: s for s in (json.loads((p / "summary.json").read_text()) for p in jobs)}
    assert by_seed[0]["status"] == "completed" and by_seed[0]["epochs"] == 3
    assert by_seed[1]["status"] == "interrupted" and "resume=" in by_seed[1]["resume_with"]
    assert sorted(by_seed) == [0, 1]
