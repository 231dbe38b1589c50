"""The performance work: the benchmark script runs and reports, the data is held once, the
evaluation pass can be thinned out. Nothing here asserts on a timing."""

import re
import subprocess
import sys

import pytest
import torch
from conftest import REPO, run_config
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from wdbench.data import fashion_mnist
from wdbench.data.synthetic import make_synthetic
from wdbench.errors import ConfigError

RATIO_ROW = re.compile(r"^\| (b/a <= 1\.2|c/b >= 5) \((linear|mlp), batch (\d+)\) \| ([\d.]+) \|")


def test_benchmark_quickest_mode_prints_its_tables(tmp_path, needs_fashion_mnist):
    command = [sys.executable, str(REPO / "scripts" / "benchmark.py"), "--quick",
               "--train-size", "600", "--epochs", "1", "--rounds", "1", "--threads", "1",
               "--batch-sizes", "256", "--jobs", "2"]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600,
                            check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "Command: `python scripts/benchmark.py --quick --train-size 600" in out
    assert "| model | batch | a: plain PyTorch | b: wdbench |" in out
    ratios = [m.groups() for m in map(RATIO_ROW.match, out.splitlines()) if m]
    assert {(kind, model) for kind, model, _, _ in ratios} == {
        (kind, model) for kind in ("b/a <= 1.2", "c/b >= 5") for model in ("linear", "mlp")}
    assert all(float(value) > 0 for *_, value in ratios)
    for line in ("start-up <= 1.5 s beyond bare imports (fashion)",
                 "multirun <= 0.5 s per job beyond training", "data held once"):
        assert line in out
    assert "| data held once (float bytes / feature bytes) | 1.00x |  | met |" in out


def test_evaluation_sets_share_the_training_tensor():
    """The train metrics' subset is a view into the training features: no second float copy."""
    data = make_synthetic(train_size=300, test_size=100, seed=0)
    train_x, train_y = data.eval_sets()["train"]
    assert len(train_x) == 100
    assert train_x.untyped_storage().data_ptr() == data.splits.train_x.untyped_storage().data_ptr()
    assert torch.equal(train_y, data.splits.train_y[:100])


def test_fashion_mnist_files_are_read_once_per_process(needs_fashion_mnist):
    first, again = fashion_mnist.load_raw(), fashion_mnist.load_raw()
    assert first is again
    assert first["train_images"].shape == (60000, 28, 28)


def test_metrics_every_n_epochs_keeps_the_last(tmp_path):
    summary = run_config(tmp_path, ["trainer.max_epochs=5", "metrics.every_n_epochs=2"])
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    assert [e.step for e in events.Scalars("loss/test")] == [0, 2, 4, 5]
    assert summary["epochs"] == 5 and summary["status"] == "completed"


def test_a_run_stopped_by_max_steps_ends_on_a_measured_epoch(tmp_path):
    # Synthetic default: 20 rows in batches of 5, 4 steps per epoch; max_steps ends epoch 2.
    summary = run_config(tmp_path, ["trainer.max_epochs=9", "+trainer.max_steps=6",
                                    "metrics.every_n_epochs=4"])
    assert summary["epochs"] == 2
    checkpoint = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=False)
    assert checkpoint["global_step"] == 8  # steps are counted; a block of 4 is not cut short


@pytest.mark.parametrize("value", [0, -1, 1.5])
def test_bad_every_n_epochs_is_rejected(tmp_path, value):
    with pytest.raises(ConfigError, match="metrics.every_n_epochs"):
        run_config(tmp_path, [f"metrics.every_n_epochs={value}"])
