"""What tests leave in the process is put back (tests/helpers/process_state.py, applied to
every test by conftest.py), and the tests' order (tests/helpers/order.py): `--shuffle SEED`'s,
then the modules with a slow test first."""

import gc
import itertools
import logging
import os
import random
import signal

import torch
from hydra import initialize_config_dir

from tests.helpers import process_state
from tests.helpers.order import shuffled, slow_modules_first
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


class Collected:
    """As much of a pytest item as the order reads: its node id and its slow marker."""

    def __init__(self, nodeid: str, slow: bool):
        self.nodeid, self.slow = nodeid, slow

    def get_closest_marker(self, name: str):
        return object() if name == "slow" and self.slow else None


def test_modules_with_a_slow_test_go_first_then_the_larger_ones():
    sizes = {"a": 1, "b": 3, "c": 2, "d": 1, "e": 2}
    items = [Collected(f"tests/test_{m}.py::test_{t}", slow=(m in "de" and t == 0))
             for m, count in sizes.items() for t in range(count)]
    order = [item.nodeid for item in slow_modules_first(items, lambda item: module(item.nodeid))]
    assert order == ["tests/test_d.py::test_0", "tests/test_e.py::test_0",
                     "tests/test_e.py::test_1", "tests/test_b.py::test_0",
                     "tests/test_b.py::test_1", "tests/test_b.py::test_2",
                     "tests/test_c.py::test_0", "tests/test_c.py::test_1",
                     "tests/test_a.py::test_0"]
