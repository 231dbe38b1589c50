"""The synthetic demo end to end through the real Trainer, read back from TensorBoard."""

import json
import math

import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tests.helpers.runs import run_config

CONTRACT_KEYS = {"status", "overrides", "train_loss", "test_loss", "gap_loss", "weight_l2",
                 "weight_l1", "weight_zero_frac", "layer_l2", "epochs", "wall_time",
                 "seconds_per_epoch"}


def test_summary_events_and_checkpoint(tmp_path):
    overrides = ["trainer.max_epochs=3", "regularizer=l2", "regularizer.strength=0.5"]
    summary = run_config(tmp_path, overrides)
    on_disk = json.loads((tmp_path / "summary.json").read_text())
    assert on_disk == summary
    assert CONTRACT_KEYS <= set(summary)
    assert summary["status"] == "completed" and summary["epochs"] == 3
    assert summary["overrides"] == overrides
    assert math.isclose(summary["gap_loss"], summary["test_loss"] - summary["train_loss"])

    events = EventAccumulator(str(tmp_path))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"loss/train", "loss/test", "loss/train_step", "loss/penalty", "gap/loss",
            "weights/l2"} <= tags
    test_curve = events.Scalars("loss/test")
    assert [e.step for e in test_curve] == [0, 1, 2, 3]
    assert math.isclose(test_curve[-1].value, summary["test_loss"], rel_tol=1e-6)

    checkpoint = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=False)
    weight = checkpoint["state_dict"]["model.layers.0.weight"]
    assert math.isclose(weight.norm().item(), summary["weight_l2"], rel_tol=1e-5)
    assert checkpoint["wdbench_config"]["regularizer"]["strength"] == 0.5


def test_train_metrics_come_from_an_evaluation_pass(tmp_path):
    """The summary's train loss is the final weights' loss on the training set, not a mean of
    minibatch losses taken while the weights moved."""
    summary = run_config(tmp_path, ["trainer.max_epochs=2"])
    checkpoint = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=False)
    from wdbench.data.synthetic import make_synthetic

    data = make_synthetic(seed=0)
    weight = checkpoint["state_dict"]["model.layers.0.weight"]
    bias = checkpoint["state_dict"]["model.layers.0.bias"]
    x, y = data.splits.train_x, data.splits.train_y
    expected = ((x @ weight.T + bias - y) ** 2).mean().item() / 2
    assert math.isclose(summary["train_loss"], expected, rel_tol=1e-5)


def test_same_seed_same_data_other_seed_other_data():
    from wdbench.data.synthetic import make_synthetic

    a, b, c = make_synthetic(seed=1), make_synthetic(seed=1), make_synthetic(seed=2)
    assert torch.equal(a.splits.train_x, b.splits.train_x)
    assert not torch.equal(a.splits.train_x, c.splits.train_x)


def test_lecture_result_lambda_3_versus_0(tmp_path):
    """The lecture's notebook: at lambda=3 the test loss is far lower and ||w|| more than ten
    times smaller than at lambda=0, where the training loss falls to about zero."""
    free = run_config(tmp_path / "0", ["+experiment=d2l_synthetic", "regularizer.strength=0"])
    decayed = run_config(tmp_path / "3", ["+experiment=d2l_synthetic"])
    assert free["train_loss"] < 1e-3 < free["test_loss"]
    assert decayed["test_loss"] < free["test_loss"] / 10
    assert decayed["weight_l2"] < free["weight_l2"] / 10
