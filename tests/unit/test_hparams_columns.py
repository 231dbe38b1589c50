"""Which hyperparameter columns a run declares to TensorBoard's HParams table: the regulariser,
its strength and what is compared (a sweep's swept keys, a single run's typed keys)."""

import json

from wdbench.outputs.hparams import compared_keys, declared_columns
from wdbench.outputs.run_names import PLAN_FILE

HPARAMS = {"experiment": "mlp_l2", "regularizer": "l2", "regularizer.strength": 1e-3,
           "optimizer": "sgd", "optimizer.lr": 0.05, "seed": 0, "trainer.max_epochs": 5,
           "model.hidden": "[512, 512]", "status": "completed"}


def test_a_sweep_compares_its_swept_keys_not_the_fixed_ones(tmp_path):
    (tmp_path / PLAN_FILE).write_text(json.dumps({"jobs": 4, "swept": ["seed", "optimizer.lr"]}))
    job = tmp_path / "nested" / "optimizer.lr=0.1,seed=1,trainer.max_epochs=5"
    overrides = ["+experiment=mlp_l2", "optimizer.lr=0.1", "seed=1", "trainer.max_epochs=5"]
    assert compared_keys(job, overrides) == {"seed", "optimizer.lr"}


def test_a_single_run_compares_what_was_typed(tmp_path):
    overrides = ["+experiment=mlp_l2", "model.hidden=[64]", "threads=1", "~regularizer.strength"]
    assert compared_keys(tmp_path / "run", overrides) == {
        "experiment", "model.hidden", "threads", "regularizer.strength"}


def test_columns_are_the_regulariser_then_the_compared_keys_it_has():
    compared = {"experiment", "threads", "seed", "model.hidden", "regularizer.strength"}
    assert declared_columns(HPARAMS, compared) == {
        "regularizer": "DATA_TYPE_STRING", "regularizer.strength": "DATA_TYPE_FLOAT64",
        "model.hidden": "DATA_TYPE_STRING", "seed": "DATA_TYPE_FLOAT64"}
    assert list(declared_columns(HPARAMS, set())) == ["regularizer", "regularizer.strength"]
