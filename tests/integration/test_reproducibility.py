"""Same configuration, seed and thread count: the same numbers, to the last bit, on the CPU;
another seed: other numbers. The summary records what produced them."""

import platform

import hydra
import pytorch_lightning
import torch

from tests.helpers.runs import run_config

# Dropout, shuffling, label noise and init all draw random numbers here.
RANDOM_EVERYWHERE = ["model=mlp", "model.hidden=[16]", "model.dropout=0.2",
                     "data.train_size=60", "data.label_noise=0.2", "trainer.max_epochs=3",
                     "threads=1"]
METRICS = ("train_loss", "test_loss", "gap_loss", "weight_l2", "weight_l1", "layer_l2")


def test_same_seed_same_numbers_other_seed_other_numbers(tmp_path):
    first = run_config(tmp_path / "a", [*RANDOM_EVERYWHERE, "seed=7"])
    again = run_config(tmp_path / "b", [*RANDOM_EVERYWHERE, "seed=7"])
    other = run_config(tmp_path / "c", [*RANDOM_EVERYWHERE, "seed=8"])
    assert {k: first[k] for k in METRICS} == {k: again[k] for k in METRICS}
    assert (tmp_path / "a" / "history.csv").read_text() == (
        tmp_path / "b" / "history.csv").read_text()
    assert all(first[k] != other[k] for k in ("train_loss", "test_loss", "weight_l2"))


def test_summary_records_seed_threads_versions_and_host(tmp_path):
    summary = run_config(tmp_path, ["trainer.max_epochs=1", "threads=1", "seed=11"])
    assert summary["seed"] == 11 and summary["threads"] == 1
    assert summary["host"] == platform.node()
    assert summary["versions"] == {"python": platform.python_version(),
                                   "torch": torch.__version__,
                                   "pytorch_lightning": pytorch_lightning.__version__,
                                   "hydra": hydra.__version__}
