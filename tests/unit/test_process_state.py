"""What tests leave in the process is put back (tests/helpers/process_state.py, applied to
every test by conftest.py), and `--shuffle SEED`'s order (tests/helpers/order.py)."""

import gc
import itertools
import logging
import os
import random
import signal

import torch
from hydra import initialize_config_dir

from tests.helpers import process_state
from tests.helpers.order import shuffled
from tests.helpers.runs import REPO, run_config


def test_a_runs_leftovers_are_put_back(tmp_path):
    """An in-process run sets torch's threads and seeds the global RNGs."""
    torch.set_num_threads(3)
    before = process_state.take()
    run_config(tmp_path, ["trainer.max_epochs=1", "threads=1", "seed=5"])
    assert {"threads", "torch_rng", "numpy_rng", "python_rng"} <= set(
        process_state.changed(before, process_state.take()))
    process_state.restore(before)
    assert process_state.changed(before, process_state.take()) == []
    assert torch.get_num_threads() == 3


def test_every_kind_of_leftover_is_put_back(tmp_path):
    before = process_state.take()
    torch.set_default_dtype(torch.float64)
    torch.set_grad_enabled(False)
    random.random()
    os.chdir(tmp_path)
    os.environ["WDBENCH_LEFT_BEHIND"] = "1"
    signal.signal(signal.SIGUSR1, lambda *_: None)
    log_file = logging.FileHandler(tmp_path / "left.log")
    logging.getLogger().addHandler(log_file)
    logging.getLogger("wdbench").setLevel(logging.ERROR)
    gc.freeze()
    initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3")
    assert process_state.changed(before, process_state.take()) == [
        "dtype", "grad_enabled", "cwd", "environ", "handlers", "hydra_initialized", "gc_frozen",
        "python_rng", "logging"]
    process_state.restore(before)
    assert process_state.changed(before, process_state.take()) == []
    assert log_file.stream is None  # closed: no file of this test's left open


def module(nodeid: str) -> str:
    return nodeid.split("::")[0]


def test_shuffle_keeps_modules_together_and_depends_on_the_seed_alone():
    items = [f"tests/test_{m}.py::test_{t}" for m in "abcdef" for t in range(5)]
    order = shuffled(items, 7, module)
    assert sorted(order) == sorted(items)
    assert order == shuffled(items, 7, module) != shuffled(items, 8, module)
    modules = [module(item) for item in order]
    assert sum(a != b for a, b in itertools.pairwise(modules)) == 5  # each module in one run
    assert modules != sorted(modules)
    assert all(order[i:i + 5] != sorted(order[i:i + 5]) for i in range(0, 30, 5))
