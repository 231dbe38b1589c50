"""What TensorBoard shows for a run equals what the checkpoint and the rebuilt data give:
scalars, histograms, the figure and the HParams row, read with tensorboard's own reader."""

import json

import pytest
import torch
from hydra.utils import instantiate

from tests.helpers.runs import compose_config, run_config, run_main
from tests.helpers.tb import (
    checkpoint_state,
    curve,
    expected_loss_and_acc,
    hparams_data,
    last_value,
    layer_indices,
    png_size,
    read_events,
    session_hparams,
)
from wdbench.config.compose import compose_run

REGRESSION = ["model=mlp", "data.val_size=15", "trainer.max_epochs=4", "regularizer=l2",
              "regularizer.strength=0.05"]


def rebuilt_splits(overrides: list[str]) -> dict:
    """The run's data, drawn again from its config and seed."""
    cfg = compose_config(overrides)
    s = instantiate(cfg.data, seed=cfg.seed).splits
    return {"train": (s.train_x, s.train_y), "val": (s.val_x, s.val_y),
            "test": (s.test_x, s.test_y)}


def check_losses(events, state, splits, classification: bool, epochs: int) -> None:
    for split, (x, y) in splits.items():
        loss, acc = expected_loss_and_acc(state, x, y, classification)
        points = events.Scalars(f"loss/{split}")
        assert [p.step for p in points] == list(range(epochs + 1))  # epoch 0 = before training
        assert points[-1].value == pytest.approx(loss, rel=1e-5)
        if classification:
            assert last_value(events, f"acc/{split}") == pytest.approx(acc, abs=1e-6)
    gap = last_value(events, "loss/test") - last_value(events, "loss/train")
    assert last_value(events, "gap/loss") == pytest.approx(gap, rel=1e-5, abs=1e-7)


def check_weights(events, state) -> None:
    """Norms from the checkpoint's tensors by torch.linalg: weights (2-D) and biases apart."""
    names = [f"layers.{i}" for i in layer_indices(state)]
    weights = [state[f"model.{n}.weight"].double() for n in names]
    flat = torch.cat([w.reshape(-1) for w in weights])
    assert last_value(events, "weights/l2") == pytest.approx(
        torch.linalg.vector_norm(flat).item(), rel=1e-5)
    assert last_value(events, "weights/l1") == pytest.approx(
        torch.linalg.vector_norm(flat, ord=1).item(), rel=1e-5)
    assert last_value(events, "weights/max_abs") == pytest.approx(flat.abs().max().item())
    for name, weight in zip(names, weights):
        spectral = torch.linalg.matrix_norm(weight, ord=2).item()
        assert last_value(events, f"weights/spectral_layer/{name}.weight") == pytest.approx(
            spectral, rel=1e-4)
        assert last_value(events, f"weights/l2_layer/{name}.weight") == pytest.approx(
            torch.linalg.matrix_norm(weight).item(), rel=1e-5)
        histogram = events.Histograms(f"weights/{name}.weight")[-1].histogram_value
        assert (histogram.min, histogram.max) == pytest.approx(
            (weight.min().item(), weight.max().item()))
        assert histogram.num == weight.numel() == sum(histogram.bucket)
    biases = torch.cat([state[f"model.{n}.bias"].double() for n in names])
    assert last_value(events, "bias/l2") == pytest.approx(
        torch.linalg.vector_norm(biases).item(), rel=1e-5)


def test_regression_run_equals_checkpoint_and_data(tmp_path):
    summary = run_config(tmp_path, REGRESSION)
    events = read_events(tmp_path)
    state = checkpoint_state(tmp_path)
    check_losses(events, state, rebuilt_splits(REGRESSION), classification=False, epochs=4)
    check_weights(events, state)
    assert summary["weight_l2"] == pytest.approx(last_value(events, "weights/l2"), rel=1e-7)
    assert set(summary["layer_spectral"]) == {"layers.0.weight", "layers.2.weight"}
    # Histograms at every epoch of a short run; the figure once, at the last epoch.
    assert [h.step for h in events.Histograms("weights/layers.0.weight")] == [0, 1, 2, 3, 4]
    [image] = events.Images("curves")
    assert image.step == 4 and (image.width, image.height) == png_size(tmp_path / "curves.png")

    hparams = session_hparams(events)
    assert hparams["regularizer"] == "l2" and hparams["regularizer.strength"] == 0.05
    assert (hparams["model"], hparams["data"], hparams["optimizer"]) == ("mlp", "synthetic", "sgd")
    assert hparams["status"] == "completed" and hparams["seed"] == 0
    assert hparams["model.hidden"] == "[256]" and hparams["trainer.max_epochs"] == 4
    experiment = hparams_data(events)["experiment"].experiment
    metric_tags = [m.name.tag for m in experiment.metric_infos]
    assert metric_tags[:3] == ["loss/test", "loss/train", "gap/loss"]  # regression: no accuracy
    # Columns: the regulariser, its strength and what the command line set; no others, so
    # that the metric columns come at 1,400 px. The other values are in the session start.
    columns = [h.name for h in experiment.hparam_infos]
    assert columns == ["regularizer", "regularizer.strength", "data.val_size", "model",
                       "trainer.max_epochs"]
    assert all(h.differs for h in experiment.hparam_infos)
    assert {"seed", "optimizer", "data.batch_size", "status"} <= hparams.keys() - set(columns)
    assert hparams_data(events)["session_end_info"].session_end_info.status == 1  # SUCCESS
    assert not (tmp_path / "hparams.yaml").exists()  # Lightning's, holding only `{}`


def test_losses_are_of_the_model_in_eval_mode(tmp_path):
    """Dropout and batch norm: the logged losses are those of the network that passes
    everything through dropout and normalises with the running statistics."""
    overrides = [*REGRESSION, "model.dropout=0.5", "model.norm=batch", "data.batch_size=5"]
    run_config(tmp_path, overrides)
    state = checkpoint_state(tmp_path)
    check_losses(read_events(tmp_path), state, rebuilt_splits(overrides), classification=False,
                 epochs=4)
    # the running statistics are of the training minibatches alone: 20 rows, batch 5, 4 epochs
    assert state["model.layers.1.num_batches_tracked"] == 4 * 4


def test_classification_run_equals_checkpoint_and_data(tmp_path, needs_fashion_mnist):
    overrides = ["data=fashion_mnist", "model=mlp", "model.hidden=[32]", "data.train_size=300",
                 "data.val_size=200", "trainer.max_epochs=2", "regularizer=l2"]
    run_config(tmp_path, overrides)
    events = read_events(tmp_path)
    state = checkpoint_state(tmp_path)
    check_losses(events, state, rebuilt_splits(overrides), classification=True, epochs=2)
    check_weights(events, state)
    gap = last_value(events, "acc/train") - last_value(events, "acc/test")
    assert last_value(events, "gap/acc") == pytest.approx(gap, abs=1e-6)
    experiment = hparams_data(events)["experiment"].experiment
    assert experiment.metric_infos[0].name.tag == "acc/test"


def test_composed_without_the_command_line_the_options_are_hydras():
    cfg, choices = compose_run(["+experiment=d2l_synthetic", "optimizer=adamw", "model=mlp"])
    assert choices == {"data": "synthetic", "model": "mlp", "regularizer": "l2",
                       "optimizer": "adamw"}
    assert "hydra" not in cfg and cfg.name == "d2l_synthetic"


def test_single_cli_run_has_a_readable_name_and_hydra_choices(tmp_path):
    result = run_main(["+experiment=d2l_synthetic", "trainer.max_epochs=3", "seed=4"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    [run_dir] = (tmp_path / "runs" / "d2l_synthetic").iterdir()
    assert run_dir.name.endswith("_l2_strength=3.0_trainer.max_epochs=3_seed=4")
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["choices"] == {"data": "synthetic", "model": "linear", "regularizer": "l2",
                                  "optimizer": "sgd"}
    hparams = session_hparams(read_events(run_dir))
    assert hparams["experiment"] == "d2l_synthetic" and hparams["model"] == "linear"
    assert curve(read_events(run_dir), "weights/l2")[-1] == pytest.approx(summary["weight_l2"])


def test_diverged_run_still_gets_its_row_and_figure(tmp_path):
    summary = run_config(tmp_path, ["optimizer.lr=5", "trainer.max_epochs=50"])
    assert summary["status"] == "diverged"
    events = read_events(tmp_path)
    assert session_hparams(events)["status"] == "diverged"
    assert hparams_data(events)["session_end_info"].session_end_info.status == 2  # FAILURE
    assert png_size(tmp_path / "curves.png")[0] > 0
    # Histograms of non-finite weights are left out rather than written as garbage.
    histograms = events.Histograms("weights/layers.0.weight")
    assert all(h.histogram_value.num == 200 for h in histograms) and histograms[0].step == 0
