"""Logged scalars by value, read back from history.csv (the same columns as the TensorBoard
scalars): each kind's `loss/penalty`, and the validation gaps."""

import csv
import itertools

import pytest

from tests.helpers.runs import run_config
from wdbench.regularizers import KINDS

LAMBDA, RATIO, RADIUS, LR = 0.3, 0.25, 5, 0.1
VALUES = {"strength": LAMBDA, "l1_ratio": RATIO, "radius": RADIUS}  # each kind's hparams


def penalty_of(kind: str, l2: float, l1: float) -> float:
    """The kind's term in the objective at weights of norms l2 and l1 (README, Regularisers);
    0 for the kinds that act on the weights directly."""
    return {"l2": LAMBDA / 2 * l2**2, "l1": LAMBDA * l1, "l1_prox": LAMBDA * l1,
            "elastic_net": LAMBDA * (RATIO * l1 + (1 - RATIO) / 2 * l2**2)}.get(kind, 0.0)


# The factor SGD shrinks the weights by each step, where a kind's step has one: lr times the
# coefficient of w in the gradient (l2, elastic net's l2 part) or in the decay (cautious: on the
# coordinates where it acts).
DECAY_PER_STEP = {"l2": LR * LAMBDA, "weight_decay": LR * LAMBDA, "decoupled": LR * LAMBDA,
                  "cautious": LR * LAMBDA, "elastic_net": LR * LAMBDA * (1 - RATIO)}


def history(run_dir) -> list[dict]:
    with open(run_dir / "history.csv") as f:
        return [{k: float(v) if v else None for k, v in row.items()} for row in csv.DictReader(f)]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_penalty_and_decay_are_the_kinds_own(tmp_path, kind):
    """One full-batch step an epoch: epoch e's penalty is taken at the weights epoch e - 1
    ended with (row 0: before training), whose norms the same file holds. The decay per
    step is logged by the kinds that have one, and only by them."""
    settings = [f"regularizer.{key}={VALUES[key]}" for key in KINDS[kind].hparams]
    run_config(tmp_path, [f"regularizer={kind}", *settings, f"optimizer.lr={LR}",
                          "data.batch_size=20", "trainer.max_epochs=3", "threads=1"])
    rows = history(tmp_path)
    assert len(rows) == 4
    for before, row in itertools.pairwise(rows):
        expected = penalty_of(kind, before["weights/l2"], before["weights/l1"])
        assert row["loss/penalty"] == pytest.approx(expected, rel=1e-5, abs=1e-12), row["epoch"]
        decay = row.get("optim/decay_per_step")
        if kind in DECAY_PER_STEP:
            assert decay == pytest.approx(DECAY_PER_STEP[kind], rel=1e-12), row["epoch"]
        else:
            assert decay is None, row["epoch"]
    if kind in ("l2", "l1", "l1_prox", "elastic_net"):
        assert rows[1]["loss/penalty"] > 1  # N(0, 1) init: a term far from zero


def test_validation_gaps(tmp_path, needs_fashion_mnist):
    """gap/loss_val = loss/val - loss/train and gap/acc_val = acc/train - acc/val, each epoch."""
    run_config(tmp_path, ["data=fashion_mnist", "model=mlp", "model.hidden=[32]",
                          "data.train_size=300", "data.val_size=200", "trainer.max_epochs=2",
                          "threads=1"])
    rows = history(tmp_path)
    assert len(rows) == 3
    for row in rows:
        assert row["gap/loss_val"] == pytest.approx(row["loss/val"] - row["loss/train"], abs=1e-6)
        assert row["gap/acc_val"] == pytest.approx(row["acc/train"] - row["acc/val"], abs=1e-6)
    assert rows[-1]["gap/loss_val"] != pytest.approx(rows[-1]["gap/loss"], abs=1e-4)
