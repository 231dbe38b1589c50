"""Runs never write into each other's directories, and summary.json is complete or absent."""

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml

from tests.helpers.runs import REPO
from wdbench.config.compose import CONF_DIR
from wdbench.outputs.rundir import RESOLVER, RunDirTaken, claim, fresh_dir
from wdbench.outputs.summary import write_json_atomic


def test_default_run_and_sweep_dirs_go_through_the_exclusive_resolver():
    """Only the configuration's wiring; the exclusive creation itself is tested below."""
    hydra = yaml.safe_load((CONF_DIR / "config.yaml").read_text())["hydra"]
    assert hydra["run"]["dir"].startswith("${" + RESOLVER + ":")
    assert hydra["sweep"]["dir"].startswith("${" + RESOLVER + ":")


def test_fresh_dir_gives_every_caller_its_own(tmp_path):
    base = str(tmp_path / "runs" / "same-microsecond")
    with ThreadPoolExecutor(8) as pool:
        made = list(pool.map(fresh_dir, [base] * 8))
    assert len(set(made)) == 8 and base in made
    assert all(os.path.isdir(d) for d in made)


def test_a_claimed_dir_refuses_a_second_run(tmp_path):
    claim(tmp_path)
    with pytest.raises(RunDirTaken, match="already belongs to another run"):
        claim(tmp_path)


def test_run_and_sweep_started_together_never_share(tmp_path):
    """Both ask for the very same directory at the same moment, as two runs started in the same
    microsecond would with the default names; each gets its own."""
    same = "${" + RESOLVER + ":runs/same}"
    env = {**os.environ, "HYDRA_FULL_ERROR": "0"}
    commands = [["seed=1", f"hydra.run.dir={same}"],
                ["-m", "seed=2,3", f"hydra.sweep.dir={same}"]]  # a sweep of two jobs
    procs = [subprocess.Popen([sys.executable, "-m", "wdbench", *args, "trainer.max_epochs=2"],
                              cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True) for args in commands]
    for proc in procs:
        assert proc.wait(timeout=300) == 0, proc.stderr.read()
    dirs = sorted(p.name for p in (tmp_path / "runs").iterdir())
    assert dirs == ["same", "same-1"]
    seeds = {}
    for summary in (tmp_path / "runs").rglob("summary.json"):
        recorded = yaml.safe_load((summary.parent / ".hydra" / "overrides.yaml").read_text())
        seed = json.loads(summary.read_text())["seed"]
        assert f"seed={seed}" in recorded  # the summary belongs to the run of that directory
        seeds[seed] = summary.parent.relative_to(tmp_path / "runs")
    assert sorted(seeds) == [1, 2, 3]
    run_home, sweep_home = seeds[1].parts[0], seeds[2].parts[0]
    assert run_home != sweep_home and seeds[3].parts[0] == sweep_home


WRITER = """
import sys
from pathlib import Path
from wdbench.outputs.summary import write_json_atomic
i = 0
while True:
    write_json_atomic(Path(sys.argv[1]), {"i": i, "payload": "x" * (1000 * (i % 500))})
    i += 1
"""


def test_summary_is_complete_or_absent_when_the_writer_is_killed(tmp_path):
    """SIGKILL (nothing to catch) at arbitrary moments of a writer that never stops."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    killed_while_writing = 0
    for attempt in range(6):
        path = tmp_path / f"{attempt}" / "summary.json"
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], env=env)
        while not path.exists():  # killed only once it has written, so mid-write
            assert proc.poll() is None, "the writer died by itself"
            time.sleep(0.01)
        time.sleep(0.02 * attempt)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        data = json.loads(path.read_text())  # never half a file
        assert len(data["payload"]) == 1000 * (data["i"] % 500)
        killed_while_writing += data["i"] > 0
    assert killed_while_writing  # some kill landed after many writes, not before the first


def test_failed_write_keeps_the_previous_summary(tmp_path):
    path = tmp_path / "summary.json"
    write_json_atomic(path, {"status": "completed"})
    with pytest.raises(ValueError):
        write_json_atomic(path, {"status": "completed", "test_loss": float("nan")})
    assert json.loads(path.read_text()) == {"status": "completed"}
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]  # no temporary file left
