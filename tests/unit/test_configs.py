"""Every config composes and instantiates; the root config keeps the shape users script against
(`+experiment=` selects an experiment, which the defaults do not list)."""

from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import OmegaConf

from tests.helpers.runs import FASHION_PRESENT, compose_config
from wdbench.config.compose import CONF_DIR

EXPERIMENTS = sorted(p.stem for p in (CONF_DIR / "experiment").glob("*.yaml"))
GROUP_OPTIONS = {
    group: sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))
    for group in ("data", "model", "regularizer", "optimizer", "trainer")
}


def test_root_config_has_no_experiment_default():
    root = OmegaConf.load(CONF_DIR / "config.yaml")
    entries = [str(e) for e in root.defaults]
    assert not any("experiment" in e for e in entries)
    cfg = compose_config([])
    assert cfg.data._target_.endswith("make_synthetic")
    assert cfg.model.hidden == [] and cfg.optimizer._target_ == "torch.optim.SGD"


def test_contract_options_exist():
    assert {"synthetic", "fashion_mnist"} <= set(GROUP_OPTIONS["data"])
    assert {"linear", "mlp"} <= set(GROUP_OPTIONS["model"])
    assert {"sgd", "adam", "adamw"} <= set(GROUP_OPTIONS["optimizer"])
    assert {"none", "l2"} <= set(GROUP_OPTIONS["regularizer"])


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_experiment_composes_and_instantiates(experiment):
    cfg = compose_config([f"+experiment={experiment}"])
    text = (Path(CONF_DIR) / "experiment" / f"{experiment}.yaml").read_text()
    assert text.startswith("# @package _global_")
    if cfg.data._target_.endswith("make_fashion_mnist"):
        if not FASHION_PRESENT:
            pytest.skip("real Fashion-MNIST not installed")
        cfg.data.train_size = 100
        cfg.data.val_size = 50
    data = instantiate(cfg.data, seed=cfg.seed)
    model = instantiate(cfg.model, in_features=data.num_features, out_features=data.num_outputs)
    regularizer = instantiate(cfg.regularizer)
    optimizer = instantiate(cfg.optimizer)(regularizer.param_groups(model))
    assert isinstance(optimizer, torch.optim.Optimizer)
    first_block = next(iter(data.train_dataloader()))
    x, _ = next(iter(first_block))
    assert model(x).shape == (len(x), data.num_outputs)


def test_experiment_names_its_runs():
    cfg = compose_config(["+experiment=mlp_l2"])
    assert cfg.name == "mlp_l2"
    assert cfg.data._target_.endswith("make_fashion_mnist")


SETUP = OmegaConf.load(CONF_DIR / "setup" / "fashion_mlp.yaml")
SEARCHES = sorted(p.stem for p in (CONF_DIR / "hparams_search").glob("*.yaml"))


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_experiments_on_a_setup_get_all_of_it(experiment):
    """An experiment that extends setup/fashion_mlp gets every value of it (and its own name)."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("config", [f"+experiment={experiment}"], return_hydra_config=True)
    assert cfg.name == experiment
    if cfg.hydra.runtime.choices.get("setup") != "fashion_mlp":
        return
    assert cfg.hydra.runtime.choices["data"] == "fashion_mnist"
    assert cfg.hydra.runtime.choices["model"] == "mlp"
    for group in ("data", "model", "optimizer", "trainer"):
        for key, value in SETUP[group].items():
            assert cfg[group][key] == value, f"{group}.{key}"


@pytest.mark.parametrize("search", SEARCHES)
def test_a_search_composes_onto_another_experiment(search):
    """`+hparams_search=NAME` brings its sweep to any experiment, as `+experiment=NAME` does to
    its own."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("config", ["+experiment=mlp_l1", f"+hparams_search={search}"],
                      return_hydra_config=True)
    own = OmegaConf.load(CONF_DIR / "hparams_search" / f"{search}.yaml")
    params = dict(own.hydra.sweeper.params)
    if "three_seeds" in own.get("defaults", []):
        params["seed"] = "0,1,2"
    assert cfg.name == "mlp_l1" and cfg.regularizer.strength == 3e-5
    assert dict(cfg.hydra.sweeper.params) == params
    assert list(cfg.hydra.sweeper.params)[-1:] == (["seed"] if "seed" in params else list(params)[-1:])


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_grid_lives_in_hparams_search(experiment):
    """An experiment is a task; the values a sweep tries are an hparams_search option."""
    own = OmegaConf.load(CONF_DIR / "experiment" / f"{experiment}.yaml")
    assert "sweeper" not in own.get("hydra", {}), "move the grid to conf/hparams_search/"
