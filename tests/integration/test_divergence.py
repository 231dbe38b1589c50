"""An absurd learning rate: the run stops within the epoch, as "diverged", and in a sweep the
other jobs go on."""

import json

import pytest

from tests.helpers.runs import run_config, run_main
from wdbench.data import loader
from wdbench.training.module import CHECK_EVERY

# 100 steps an epoch; lr 1e3 on the lecture's N(0, 1)-initialised linear model overflows fast.
ABSURD = ["data.train_size=500", "optimizer.lr=1e3", "trainer.max_epochs=20"]


def test_absurd_lr_stops_within_the_first_epoch(tmp_path):
    summary = run_config(tmp_path, ABSURD)
    assert summary["status"] == "diverged"
    assert summary["diverged_epoch"] == 1 and summary["epochs"] == 1
    assert summary["steps"] <= 2 * CHECK_EVERY  # not the epoch's 100 steps, nor 20 epochs
    # a report shows "diverged", never a NaN or infinity posing as a number
    assert summary["train_loss"] is None and summary["test_loss"] is None
    on_disk = (tmp_path / "summary.json").read_text()
    assert "NaN" not in on_disk and "Infinity" not in on_disk
    assert json.loads(on_disk)["status"] == "diverged"
    rows = (tmp_path / "history.csv").read_text().splitlines()
    assert [row.split(",")[0] for row in rows[1:]] == ["0", "1"]


@pytest.mark.parametrize("block_steps", [1, 3])
def test_the_guard_counts_steps_whatever_the_blocks(tmp_path, monkeypatch, block_steps):
    """Blocks of 1 or 3 minibatches (not a multiple of the check interval): the guard still
    checks every CHECK_EVERY steps of the epoch and stops the run at the first check."""
    monkeypatch.setattr(loader, "BLOCK_ROWS", 5 * block_steps)  # batch_size 5 (synthetic)
    summary = run_config(tmp_path, ABSURD)
    assert summary["status"] == "diverged" and summary["diverged_epoch"] == 1
    assert summary["steps"] <= CHECK_EVERY + block_steps


def test_sweep_goes_on_past_failed_diverged_and_duplicate_jobs(tmp_path):
    """A sweep meets every failure there is; each job ends clearly and the others go on. The
    last job repeats the third: it finds that run completed and skips it (as a re-run sweep
    does), writing nothing into the third's directory."""
    result = run_main(["-m", "optimizer.lr=-1,1000,0.003,0.003", "trainer.max_epochs=3"],
                      cwd=tmp_path)
    assert result.returncode == 1  # a job failed; the sweep still ran all four
    assert "Traceback" not in result.stderr
    assert "already completed, skipped" in result.stderr + result.stdout
    assert "error: 1 job(s) failed" in result.stderr
    summaries = {p.parent.name.split(",")[0]: json.loads(p.read_text())
                 for p in (tmp_path / "runs" / "default").glob("multirun_*/*/summary.json")}
    assert sorted(summaries) == ["optimizer.lr=-1", "optimizer.lr=0.003", "optimizer.lr=1000"]
    assert summaries["optimizer.lr=-1"]["status"] == "failed"
    assert "optimizer.lr=-1 is invalid" in summaries["optimizer.lr=-1"]["error"]
    diverged = summaries["optimizer.lr=1000"]
    assert diverged["status"] == "diverged"
    assert diverged["diverged_epoch"] in (1, 2) and diverged["epochs"] == diverged["diverged_epoch"]
    assert summaries["optimizer.lr=0.003"]["status"] == "completed"  # the first, intact
    assert summaries["optimizer.lr=0.003"]["epochs"] == 3
    third = next((tmp_path / "runs" / "default").glob("multirun_*/optimizer.lr=0.003,*"))
    rewritten = min(p.stat().st_mtime_ns for p in (third / ".hydra").iterdir())
    written = {p.name: p.stat().st_mtime_ns for p in third.rglob("*")
               if p.is_file() and ".hydra" not in p.parts and p.suffix != ".log"}
    assert {"summary.json", "history.csv", "last.ckpt"} <= set(written)
    # the fourth job's Hydra rewrote .hydra/; every file of the run itself is older
    assert max(written.values()) < rewritten, written


def test_diverged_single_run_exits_0(tmp_path):
    """A diverged run is a result, not an error."""
    result = run_main(ABSURD, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    summary = json.loads(next((tmp_path / "runs").rglob("summary.json")).read_text())
    assert summary["status"] == "diverged"
