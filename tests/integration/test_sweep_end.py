"""The end of a sweep: its progress while it runs, then the table of its jobs, printed and
written as sweep_summary.csv and .md, and the two commands that go further (which work)."""

import csv
import json
import os
import platform
import re
import shlex
import subprocess

import pytest

from tests.helpers.runs import main_in_process, run_cli, run_main
from wdbench.outputs.files import RunDir
from wdbench.sweep.progress import sweep_line

SHORT = ["trainer.max_epochs=2", "threads=1"]


def summaries(sweep_dir) -> dict:
    return {p.parent.name: json.loads(p.read_text()) for p in sweep_dir.glob("*/summary.json")}


def test_basic_sweep_prints_progress_table_and_next_commands(tmp_path):
    result = run_main(["-m", "regularizer=l2", "seed=1,0", "regularizer.strength=3,0.1,-1",
                       *SHORT], cwd=tmp_path)
    assert result.returncode == 1  # the two jobs with λ = -1 fail; the others go on
    [sweep_dir] = (tmp_path / "runs" / "default").glob("multirun_*")
    out = result.stdout

    progress = re.findall(r"\[sweep\] (\d)/6 jobs done(, about .* left)?", out)
    assert [int(done) for done, _ in progress] == [1, 2, 3, 4, 5, 6]
    assert all(left for _, left in progress[:-1]) and not progress[-1][1]

    # the job directories name the swept values first, in the command's order
    jobs = summaries(sweep_dir)
    assert "seed=0,regularizer.strength=0.1,regularizer=l2,threads=1,trainer.max_epochs=2" in jobs

    table = out[out.index("sweep of 6 jobs"):].splitlines()
    assert table[1].split()[:3] == ["seed", "regularizer.strength", "status"]
    rows = [line.split() for line in table[2:8]]
    assert [row[:2] for row in rows] == [["0", "-1"], ["0", "0.1"], ["0", "3"],
                                         ["1", "-1"], ["1", "0.1"], ["1", "3"]]
    assert [row[2] for row in rows] == ["failed", "completed", "completed"] * 2

    with open(sweep_dir / "sweep_summary.csv") as f:
        written = list(csv.DictReader(f))
    assert [(r["seed"], r["regularizer.strength"]) for r in written] == [
        tuple(row[:2]) for row in rows]
    for row in written:  # every number is the job's own summary's, unrounded
        summary = jobs[row["job"]]
        assert row["status"] == summary["status"]
        for key in ("test_loss", "gap_loss", "weight_l2"):
            assert row[key] == ("" if summary.get(key) is None else str(summary[key]))
    markdown = (sweep_dir / "sweep_summary.md").read_text()
    assert "| seed | regularizer.strength | status | test loss | gap loss | ‖w‖ |" in markdown

    report, tensorboard = [line.strip() for line in table if "--logdir" in line
                           or "report.py" in line][:2]
    assert report.endswith(f"report.py {shlex.quote(str(sweep_dir.relative_to(tmp_path)))}")
    assert tensorboard.endswith(f"--logdir {shlex.quote(str(sweep_dir.relative_to(tmp_path)))}")
    made = subprocess.run(shlex.split(report), cwd=tmp_path, capture_output=True, text=True,
                          check=False)
    assert made.returncode == 0, made.stderr
    assert "6 runs, 4 completed" in made.stdout
    assert (sweep_dir / "report" / "report.md").is_file()


def test_stacked_sweep_table_comes_after_the_stacks_trained(tmp_path):
    result = run_main(["-m", "regularizer=l2", "regularizer.strength=0,0.1,1,3",
                       "sweep.vectorize=true", *SHORT], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    [sweep_dir] = (tmp_path / "runs" / "default").glob("multirun_*")
    with open(sweep_dir / "sweep_summary.csv") as f:
        written = list(csv.DictReader(f))
    assert [r["regularizer.strength"] for r in written] == ["0", "0.1", "1", "3"]
    assert all(r["status"] == "completed" and r["test_loss"] for r in written)
    assert "[sweep]" not in result.stdout  # jobs are only collected while Hydra sweeps


@pytest.mark.slow
def test_parallel_workers_report_progress_too(tmp_path):
    """joblib runs the jobs in worker processes: each reads the plan from the sweep directory."""
    result = run_cli(["-m", "regularizer=l2", "regularizer.strength=0,0.1,1,3",
                      "hydra/launcher=parallel", "hydra.launcher.n_jobs=2", *SHORT], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    done = [int(n) for n in re.findall(r"\[sweep\] (\d)/4 jobs done", result.stdout)]
    # one line per job; two jobs ending together may both count the other's summary
    assert len(done) == 4 and max(done) == 4 and min(done) >= 1
    [sweep_dir] = (tmp_path / "runs" / "default").glob("multirun_*")
    with open(sweep_dir / "sweep_summary.csv") as f:
        assert [r["status"] for r in csv.DictReader(f)] == ["completed"] * 4


@pytest.mark.parametrize("done, total, done_now, elapsed, expected", [
    (1, 4, 1, 10.0, "[sweep] 1/4 jobs done, about 30 s left"),
    (3, 24, 2, 60.0, "[sweep] 3/24 jobs done, about 10 min left"),  # 1 skipped, 2 ran: 30 s each
    (24, 24, 24, 600.0, "[sweep] 24/24 jobs done"),
    (5, 10, 0, 1.0, "[sweep] 5/10 jobs done"),  # only skipped jobs so far: no rate to go by
])
def test_time_left_is_the_rate_so_far_times_the_jobs_left(done, total, done_now, elapsed,
                                                          expected):
    assert sweep_line(done, total, done_now, elapsed) == expected


def test_a_second_sweep_in_the_same_process_starts_clean(tmp_path, monkeypatch, capsys):
    """What a sweep did (its failed jobs, its end) stays with that sweep: a second one in the
    same process neither reports the first one's failure nor prints its table again."""
    monkeypatch.chdir(tmp_path)
    tiny = ["-m", "trainer.max_epochs=1", "threads=1", "data.train_size=20"]
    code, out, err = main_in_process([*tiny, "optimizer.lr=-1,0.01", "hydra.sweep.dir=first"],
                                     monkeypatch, capsys)
    assert code == 1 and "error: 1 job(s) failed: " in err and "sweep of 2 jobs in first" in out
    code, out, err = main_in_process([*tiny, "seed=0,1", "hydra.sweep.dir=second"],
                                     monkeypatch, capsys)
    assert (code, "error" in err) == (0, False)
    assert "sweep of 2 jobs in second" in out and "in first" not in out


def test_a_job_that_can_write_no_summary_still_fails_the_sweep(tmp_path, monkeypatch, capsys):
    """A job whose directory a live run holds writes nothing there: the sweep, which ran it
    in this process, counts it from what the job returned."""
    monkeypatch.chdir(tmp_path)
    sweep = ["-m", "trainer.max_epochs=1", "threads=1", "data.train_size=20", "seed=0,1",
             "hydra.sweep.dir=s"]
    assert main_in_process(sweep, monkeypatch, capsys)[0] == 0
    [held] = [p.parent for p in (tmp_path / "s").glob("seed=1*/summary.json")]
    (held / "summary.json").unlink()  # unfinished, and its claim is this live process's
    RunDir(held).claim.write_text(json.dumps({"pid": os.getpid(), "host": platform.node()}))
    code, _, err = main_in_process(sweep, monkeypatch, capsys)
    assert code == 1 and "already belongs to another run" in err
    last = err.splitlines()[-1]
    assert last.startswith("error: 1 job(s) failed: ") and last.endswith(held.name)
    assert not (held / "summary.json").exists()
