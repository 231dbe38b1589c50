"""The performance work: the data is held once, the evaluation pass can be thinned out (the
benchmark scripts run in tests/integration/test_performance_script.py). Nothing here asserts on a timing."""


import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tests.helpers.runs import run_config
from tests.helpers.tb import read_events
from wdbench.data import fashion_mnist
from wdbench.data.synthetic import make_synthetic
from wdbench.errors import ConfigError


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


def by_hand_losses(checkpoint_path, rows: int | None) -> dict[str, float]:
    """The lecture's loss of a checkpoint's linear model on the first `rows` rows of the
    synthetic train subset and test set (None: all), computed without wdbench's evaluation."""
    state = torch.load(checkpoint_path, weights_only=False)["state_dict"]
    weight, bias = state["model.layers.0.weight"], state["model.layers.0.bias"]
    splits = make_synthetic(seed=0).splits
    count = min(len(splits.train_x), len(splits.test_x))
    sets = {"train": (splits.train_x[:count], splits.train_y[:count]),
            "test": (splits.test_x, splits.test_y)}
    return {split: (((x[:rows] @ weight.T + bias - y[:rows]) ** 2).mean() / 2).item()
            for split, (x, y) in sets.items()}


@pytest.mark.parametrize("stop", [["trainer.max_epochs=3"],
                                  ["trainer.max_epochs=9", "+trainer.max_steps=10"]])
def test_eval_rows_caps_the_curves_not_the_result(tmp_path, stop):
    """With lr 1e-30 (lr must be > 0) the weights do not move, so every epoch's numbers are
    the checkpoint's: the epochs before the last on the first metrics.eval_rows rows, the last
    (max_epochs or max_steps), and so summary.json, on every row."""
    summary = run_config(tmp_path, [*stop, "optimizer.lr=1e-30", "metrics.eval_rows=7"])
    checkpoint = tmp_path / "checkpoints" / "last.ckpt"
    capped, whole = by_hand_losses(checkpoint, 7), by_hand_losses(checkpoint, None)
    assert capped["test"] != pytest.approx(whole["test"], rel=1e-3)  # the cap shows
    events = read_events(tmp_path)
    for split in ("train", "test"):
        points = events.Scalars(f"loss/{split}")
        assert [p.step for p in points] == [0, 1, 2, 3]
        assert [p.value for p in points[:-1]] == pytest.approx([capped[split]] * 3, rel=1e-5)
        assert points[-1].value == pytest.approx(whole[split], rel=1e-5)
        assert summary[f"{split}_loss"] == pytest.approx(whole[split], rel=1e-5)


@pytest.mark.parametrize("value", [0, -5, 2.5, "many"])
def test_bad_eval_rows_is_rejected(tmp_path, value):
    with pytest.raises(ConfigError, match="metrics.eval_rows"):
        run_config(tmp_path, [f"metrics.eval_rows={value}"])


def test_figure_can_be_left_out(tmp_path):
    summary = run_config(tmp_path, ["trainer.max_epochs=2", "metrics.figure=false"])
    assert summary["status"] == "completed"
    assert not (tmp_path / "curves.png").exists()
    events = read_events(tmp_path)
    assert events.Tags()["images"] == [] and events.Scalars("loss/test")[-1].step == 2


def test_bad_figure_value_is_rejected(tmp_path):
    with pytest.raises(ConfigError, match="metrics.figure"):
        run_config(tmp_path, ["metrics.figure=sometimes"])
