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
from conftest import run_cli, run_config

from wdbench.ddp import TOKEN_ENV
from wdbench.rundir import CLAIM_FILE, claim

DDP = ["trainer.devices=2", "trainer.strategy=ddp", "trainer.accelerator=cpu", "threads=1"]
# 2,000 images: 4 global batches of 512 an epoch, the last one partial (464 = 2 x 232 rows).
FASHION = ["+experiment=linear_l2", "data.train_size=2000", "trainer.max_epochs=2"]


def weights(run_dir) -> dict[str, torch.Tensor]:
    checkpoint = torch.load(run_dir / "checkpoints" / "last.ckpt", map_location="cpu",
                            weights_only=True)
    return checkpoint["state_dict"]


def only_run_dir(parent):
    dirs = [d for d in parent.iterdir() if d.is_dir()]
    assert len(dirs) == 1, dirs
    return dirs[0]


def test_two_ranks_equal_one_process_with_twice_the_batch(tmp_path, needs_fashion_mnist):
    """Ground truth: DDP averages the two ranks' gradients, each the mean over its 256 rows of
    a global batch of 512 (data/loader.py gives rank r the rows r, r+2, ... of the epoch's
    order), which is the gradient of the single run's mean over those 512 rows. Plain SGD with
    momentum on the same init then takes the same steps. Tolerance 1e-5: float32 sums in
    another order (two halves, then their mean), over 8 steps."""
    result = run_cli([*FASHION, *DDP], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    run_dir = only_run_dir(tmp_path / "runs" / "linear_l2")
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["epochs"] == 2
    assert summary["steps"] == 8  # per rank: 4 batches of 256 (the last 232) an epoch
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
