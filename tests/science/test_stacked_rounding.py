"""The 8-member stack of λ = 0 .. 0.1 on mlp_l2's network parts from its ordinary runs by
float32 rounding only: in float64 the same steps agree to 1e-12 (a mix-up between members, or a
member's λ on another's weights, would differ at the level of λ·w, about 1e-3 per step), while
in float32 the batched matmul, which sums in another order, leaves each member about 1e-7 off
from the first step. scripts/stack_rounding.py runs the same comparison at any length and prints
the table; past about 40 steps the float32 rounding can put one ReLU input on the other side
of zero, and that member then drifts by up to a few percent, as far as its ordinary float32 run
drifts from its own float64 run."""

import importlib.util

import pytest
import torch

from tests.helpers.runs import FASHION_MISSING, FASHION_PRESENT, REPO

STEPS = 45


def rounding_script():
    spec = importlib.util.spec_from_file_location("stack_rounding",
                                                  REPO / "scripts" / "stack_rounding.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not FASHION_PRESENT, reason=FASHION_MISSING)
def test_the_eight_member_stack_is_its_ordinary_runs_up_to_float32_rounding():
    torch.set_num_threads(1)
    script = rounding_script()
    x, y, model = script.task(STEPS)
    exact, _, _ = script.gaps(x, y, model, torch.float64)
    rounded, _, _ = script.gaps(x, y, model, torch.float32)
    assert len(exact) == len(rounded) == 8
    # float64 rounding of values of order 1 over 45 steps of a 784-256-10 network: about 1e-15
    assert max(exact) < 1e-12, exact
    # float32: a few ulps from the first step on; the gap goes as the precision does
    assert all(1e-8 < r < 1e-1 for r in rounded), rounded
    assert min(rounded) > 1e4 * max(exact)
