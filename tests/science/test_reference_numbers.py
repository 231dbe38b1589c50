"""A fixed seed gives the same summary.json metrics on the CPU as the code that recorded
tests/data/reference_summaries.json: an ordinary synthetic run, a small Fashion-MNIST MLP, and
a stacked grid of three strengths. Rewriting how a run is assembled, measured or written must
not move a number.

Tolerance: 1e-6 relative (and 1e-9 absolute for values at zero). The same operations in the
same order on one thread give the same bits; the margin only absorbs the JSON round trip of
floats and a float32 sum taken in another but equivalent order (e.g. torch.cat before a norm).
Regenerate the file, only for a deliberate change of numbers, with
`python -m tests.test_reference_numbers`."""

import json
from pathlib import Path

import pytest

from tests.helpers.runs import make_job, run_config
from wdbench.stacked.run import run_stack

REFERENCE = Path(__file__).parents[1] / "data" / "reference_summaries.json"
SYNTHETIC = ["+experiment=d2l_synthetic", "trainer.max_epochs=5", "threads=1"]
FASHION = ["+experiment=mlp_l2", "data.train_size=200",
           "model.hidden=[16]", "trainer.max_epochs=2", "threads=1"]
STACK = [*SYNTHETIC, "regularizer=l2"]
STRENGTHS = (0, 1, 3)
METRICS = ("train_loss", "val_loss", "test_loss", "gap_loss", "train_acc", "val_acc",
           "test_acc", "gap_acc", "weight_l2", "weight_l1", "weight_zero_frac",
           "weight_small_frac", "weight_max_abs", "bias_l2", "layer_l2", "layer_spectral",
           "bias_layer_l2", "epochs", "steps", "status")


def measured(summary: dict) -> dict:
    return {key: summary[key] for key in METRICS if key in summary}


def ordinary(tmp_path: Path, overrides: list[str]) -> dict:
    return measured(run_config(tmp_path, overrides))


def stacked(tmp_path: Path) -> list[dict]:
    overrides = [[*STACK, f"regularizer.strength={s}"] for s in STRENGTHS]
    jobs = [make_job(tmp_path / f"member{i}", o) for i, o in enumerate(overrides)]
    return [measured(summary) for summary in run_stack(jobs)]


def assert_same(actual, expected, where: str = "") -> None:
    if isinstance(expected, dict):
        assert set(actual) == set(expected), where
        for key in expected:
            assert_same(actual[key], expected[key], f"{where}.{key}")
    elif isinstance(expected, float):
        assert actual == pytest.approx(expected, rel=1e-6, abs=1e-9), where
    else:
        assert actual == expected, where


def test_synthetic_run_reproduces_the_reference(tmp_path):
    expected = json.loads(REFERENCE.read_text())["synthetic"]
    assert_same(ordinary(tmp_path, SYNTHETIC), expected)


def test_fashion_mlp_reproduces_the_reference(tmp_path, needs_fashion_mnist):
    expected = json.loads(REFERENCE.read_text())["fashion"]
    assert_same(ordinary(tmp_path, FASHION), expected)


def test_stacked_grid_reproduces_the_reference(tmp_path):
    expected = json.loads(REFERENCE.read_text())["stacked"]
    for member, (actual, wanted) in enumerate(zip(stacked(tmp_path), expected, strict=True)):
        assert_same(actual, wanted, f"member {member}")


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        reference = {"synthetic": ordinary(root / "s", SYNTHETIC),
                     "fashion": ordinary(root / "f", FASHION),
                     "stacked": stacked(root / "k")}
    REFERENCE.write_text(json.dumps(reference, indent=1) + "\n")
