"""One big run on two CPU processes (Lightning's DDP over gloo), started from the command line
as README shows: the ranks share one run directory that rank 0 alone writes, and the result
is the single-process run with the global batch."""

import json
import os
import signal
import subprocess
import sys

import pytest
import torch

from tests.helpers.ddp import SYNTHETIC, weights
from tests.helpers.runs import run_cli, run_config, run_main
from wdbench.outputs.files import RunDir
from wdbench.outputs.rundir import RunDirTaken, claim
from wdbench.training.ddp import TOKEN_ENV

DDP = ["trainer.devices=2", "trainer.strategy=ddp", "trainer.accelerator=cpu", "threads=1"]
# README's command: 55,000 images, 10 epochs; 108 global batches of 512 an epoch, the last
# one partial (216 = 2 x 108 rows).
FASHION = ["+experiment=linear_l2"]


def only_run_dir(parent):
    dirs = [d for d in parent.iterdir() if d.is_dir()]
    assert len(dirs) == 1, dirs
    return dirs[0]


@pytest.mark.slow
def test_two_ranks_equal_one_process_with_twice_the_batch(tmp_path, needs_fashion_mnist):
    """Ground truth: DDP averages the two ranks' gradients, each the mean over its 256 rows of
    a global batch of 512 (data/loader.py gives rank r the rows r, r+2, ... of the epoch's
    order), which is the gradient of the single run's mean over those 512 rows. Plain SGD with
    momentum on the same init then takes the same steps. Tolerance 1e-5: float32 sums in
    another order (two halves, then their mean), over 1,080 steps of a convex problem."""
    result = run_cli([*FASHION, *DDP], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    run_dir = only_run_dir(tmp_path / "runs" / "linear_l2")
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["epochs"] == 10
    assert summary["steps"] == 1080  # per rank: 108 batches of 256 (the last 108) an epoch
    # rank 1 wrote nothing: no log, no second event file, no Hydra output of its own
    names = sorted(p.name for p in run_dir.iterdir())
    assert not [n for n in names if "ddp_process" in n], names
    assert len([n for n in names if n.startswith("events.out.tfevents")]) == 1
    assert "Traceback" not in result.stderr

    single = run_config(tmp_path / "single", [*FASHION, "data.batch_size=512", "threads=1"])
    ddp, one = weights(run_dir), weights(tmp_path / "single")
    assert ddp.keys() == one.keys()
    for name in one:
        torch.testing.assert_close(ddp[name], one[name], rtol=0, atol=1e-5)
    assert summary["test_loss"] == pytest.approx(single["test_loss"], abs=1e-5)
    assert summary["train_loss"] == pytest.approx(single["train_loss"], abs=1e-5)
    # the epoch's mean minibatch loss is over both ranks' halves, as the single run's
    assert last_row(run_dir)["loss/train_step"] == pytest.approx(
        last_row(tmp_path / "single")["loss/train_step"], abs=1e-5)


def last_row(run_dir) -> dict[str, float]:
    header, *rows = (run_dir / "history.csv").read_text().splitlines()
    return dict(zip(header.split(","), map(float, rows[-1].split(","))))


# 2,000 examples, 10 a rank per step: 100 steps an epoch, long enough for a signal to land
# mid-run; the single-process reference takes the global batch of 20.
def start_and_signal(tmp_path, signum: int, whole_group: bool):
    """The DDP command, sent `signum` once its first epoch is measured: to every rank as
    Ctrl+C in a terminal does (the process group), or to rank 0 alone as `kill` does."""
    env = {**os.environ, "HYDRA_FULL_ERROR": "0"}
    proc = subprocess.Popen([sys.executable, "-m", "wdbench", *SYNTHETIC, *DDP], cwd=tmp_path,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    output = []
    for line in proc.stdout:
        output.append(line)
        if "epoch   1/10" in line:
            if whole_group:
                os.killpg(proc.pid, signum)
            else:
                proc.send_signal(signum)
            break
    output.append(proc.communicate(timeout=300)[0])
    return proc.returncode, "".join(output)


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "whole_group"), [(signal.SIGINT, True),
                                                    (signal.SIGTERM, False)])
def test_interrupted_ddp_run_resumes_to_the_same_weights(tmp_path, signum, whole_group):
    """Both ranks stop after the same batch whichever got the signal; rank 0 writes the
    checkpoint and the summary. Resumed with the summary's own command, the run ends with the
    weights of one process with the global batch, never interrupted (tolerance as above,
    over 1,000 steps of a contracting linear regression)."""
    returncode, output = start_and_signal(tmp_path, signum, whole_group)
    assert returncode == 128 + signum, output
    run_dir = only_run_dir(tmp_path / "runs" / "default")
    stopped = json.loads((run_dir / "summary.json").read_text())
    assert stopped["status"] == "interrupted" and stopped["signal"] == signal.Signals(signum).name
    assert (run_dir / "checkpoints" / "last.ckpt").is_file()
    assert "Traceback" not in output
    if whole_group:
        return
    resumed = subprocess.run(stopped["resume_with"], shell=True, cwd=tmp_path, check=False,
                             capture_output=True, text=True, timeout=300,
                             env={**os.environ, "HYDRA_FULL_ERROR": "0"})
    assert resumed.returncode == 0, resumed.stderr
    final_dir = next(d for d in (tmp_path / "runs" / "default").iterdir() if d != run_dir)
    final = json.loads((final_dir / "summary.json").read_text())
    assert final["status"] == "completed" and final["epochs"] == 10
    assert final["resumed_from"] == str(run_dir / "checkpoints" / "last.ckpt")
    single = run_config(tmp_path / "single", [*SYNTHETIC, "data.batch_size=20", "threads=1"])
    for name, value in weights(tmp_path / "single").items():
        torch.testing.assert_close(weights(final_dir)[name], value, rtol=0, atol=1e-5)
    assert final["test_loss"] == pytest.approx(single["test_loss"], rel=1e-4)


@pytest.mark.slow
def test_diverging_ddp_run_stops_on_every_rank(tmp_path):
    """An absurd learning rate: both ranks stop at the same step (a rank that stopped alone
    would leave the other waiting for it forever), and the run ends as "diverged", status 0."""
    result = run_cli(["data.train_size=500", "optimizer.lr=1e3", "trainer.max_epochs=20", *DDP],
                     cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr
    summary = json.loads((only_run_dir(tmp_path / "runs" / "default") / "summary.json")
                         .read_text())
    assert summary["status"] == "diverged" and summary["diverged_epoch"] == 1
    assert summary["test_loss"] is None


def test_a_rank_joins_only_its_own_runs_directory(tmp_path, monkeypatch):
    """Rank 0's claim gives the token to the ranks it starts; a process that claims to be
    rank 1 of another run (another token, or none) is refused and writes nothing."""
    monkeypatch.delenv("LOCAL_RANK", raising=False)
    monkeypatch.delenv(TOKEN_ENV, raising=False)  # so that claim's token goes with the test
    claim(tmp_path)
    marker = (tmp_path / RunDir.CLAIM).read_text()
    token = os.environ[TOKEN_ENV]
    assert json.loads(marker)["token"] == token
    monkeypatch.setenv("LOCAL_RANK", "1")
    claim(tmp_path)  # its own run's rank 1: accepted
    monkeypatch.setenv(TOKEN_ENV, "another run's token")
    with pytest.raises(RunDirTaken, match="not the one of the DDP run that started this rank"):
        claim(tmp_path)
    assert (tmp_path / RunDir.CLAIM).read_text() == marker
    assert sorted(p.name for p in tmp_path.iterdir()) == [RunDir.CLAIM]


def test_a_stranger_rank_is_refused_from_the_command_line(tmp_path):
    """A completed run's directory, given to a process that says it is rank 1 of some DDP run,
    started as Lightning starts rank 1: a clear error, and the directory is left as it was."""
    first = run_main(["trainer.max_epochs=1", "hydra.run.dir=runs/taken"], cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    before = {p: p.read_bytes() for p in (tmp_path / "runs" / "taken").rglob("*") if p.is_file()}
    env = {**os.environ, "HYDRA_FULL_ERROR": "0", "LOCAL_RANK": "1", TOKEN_ENV: "not its"}
    lightnings = ["hydra.job.name=train_ddp_process_1", "hydra.output_subdir=null"]
    result = subprocess.run([sys.executable, "-m", "wdbench", "trainer.max_epochs=1",
                             "hydra.run.dir=runs/taken", *lightnings], cwd=tmp_path, env=env, check=False,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert "not the one of the DDP run that started this rank" in result.stderr
    assert "Traceback" not in result.stderr
    after = {p: p.read_bytes() for p in (tmp_path / "runs" / "taken").rglob("*") if p.is_file()}
    assert after == before


def test_a_sweep_refuses_several_devices_per_job(tmp_path):
    """Lightning would start rank 1 by running the whole sweep again: each job fails at once
    with a clear line, and the sweep exits 1."""
    result = run_main(["-m", "seed=0,1", *DDP], cwd=tmp_path)
    assert result.returncode == 1
    assert "error: trainer.devices=2 is invalid: allowed 1 in a sweep" in result.stderr
    assert "Traceback" not in result.stderr
    done = [json.loads(p.read_text()) for p in (tmp_path / "runs").rglob("summary.json")]
    assert [s["status"] for s in done] == ["failed", "failed"]
