"""Shared fixtures; shared helpers live in tests/helpers/.

No test sees what another test, or another module's fixtures, changed in the process's
global state (tests/helpers/process_state.py): it is put back after each. `--shuffle SEED`
runs the tests in an order drawn from SEED, to show that none depends on another's running
first; CI draws SEED from the commit."""

import os

import pytest
import torch

from tests.helpers import process_state
from tests.helpers.order import shuffled, slow_modules_first
from tests.helpers.runs import FASHION_MISSING, FASHION_PRESENT


def pytest_configure(config):
    """Under `pytest -n N` the N workers share the cores: each run and each process a test
    starts gets its share of threads (threads: null follows OMP_NUM_THREADS), as joblib's
    workers do; two processes each using every core would oversubscribe them."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 1)
    if workers > 1 and "OMP_NUM_THREADS" not in os.environ:
        share = max(len(os.sched_getaffinity(0)) // workers, 1)
        os.environ["OMP_NUM_THREADS"] = str(share)
        torch.set_num_threads(share)


def pytest_addoption(parser):
    parser.addoption("--shuffle", type=int, metavar="SEED", default=None,
                     help="run modules and the tests within each in an order drawn from SEED")


def pytest_report_header(config):
    seed = config.getoption("shuffle")
    return None if seed is None else f"test order shuffled: --shuffle {seed}"


def module_of(item) -> str:
    return item.nodeid.split("::")[0]


def pytest_collection_modifyitems(config, items):
    seed = config.getoption("shuffle")
    if seed is not None:
        items[:] = shuffled(items, seed, module_of=module_of)
    items[:] = slow_modules_first(items, module_of=module_of)


@pytest.fixture(scope="module", autouse=True)
def restore_after_module():
    before = process_state.take()
    yield
    process_state.restore(before)


@pytest.fixture(autouse=True)
def restore_after_test():
    before = process_state.take()
    yield
    process_state.restore(before)


@pytest.fixture
def needs_fashion_mnist():
    if not FASHION_PRESENT:
        if os.environ.get("CI"):
            pytest.fail(FASHION_MISSING + " (CI must install it: see .ci/run)")
        pytest.skip(FASHION_MISSING)
