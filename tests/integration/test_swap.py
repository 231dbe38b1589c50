"""An option picked on the command line runs with its own settings, whatever the experiment
set for the option it replaced; a key the user typed that the option lacks is still refused."""

import inspect
import json

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import get_object, instantiate
from omegaconf import OmegaConf

from tests.helpers.runs import run_main
from wdbench.config.compose import CONF_DIR
from wdbench.config.swap import OWN_SETTINGS_GROUPS, use_own_settings
from wdbench.config.validate import check_optimizer
from wdbench.errors import ConfigError

EXPERIMENTS = sorted(p.stem for p in (CONF_DIR / "experiment").glob("*.yaml"))
OPTIONS = [(group, p.stem) for group in OWN_SETTINGS_GROUPS
           for p in sorted((CONF_DIR / group).glob("*.yaml"))]


@pytest.fixture(scope="module")
def hydra_initialised():
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        yield


def composed(overrides: list[str]):
    """The config a job gets: Hydra's composition, then the swap the command line applies."""
    cfg = compose(config_name="config", overrides=overrides, return_hydra_config=True)
    choices = cfg.hydra.runtime.choices
    use_own_settings(cfg, overrides, choices)
    return cfg


def expected_node(cfg, group: str, option: str) -> dict:
    """Independently of wdbench: the option's own file, then the data/model tuning file's
    values for that group (the config's defaults list applies it after the groups)."""
    node = OmegaConf.load(CONF_DIR / group / f"{option}.yaml")
    choices = cfg.hydra.runtime.choices
    tuning = CONF_DIR / "tuning" / f"{choices.data}_{choices.model}.yaml"
    if tuning.is_file() and group in OmegaConf.load(tuning):
        node = OmegaConf.merge(node, OmegaConf.load(tuning)[group])
    return OmegaConf.to_container(node)


def check_builds(cfg) -> None:
    """Every group's node is one its target takes: the parts build and pass the start-up
    checks (the data is not read: its keys are bound to its factory's signature)."""
    regularizer = instantiate(cfg.regularizer)  # each kind checks its own values
    make_optimizer = instantiate(cfg.optimizer)
    check_optimizer(cfg.optimizer, make_optimizer)
    model = instantiate(cfg.model, in_features=4, out_features=2)
    optimizer = make_optimizer(regularizer.param_groups(model))
    if cfg.get("scheduler"):
        instantiate(cfg.scheduler)(optimizer)
    data_keys = {k: v for k, v in cfg.data.items() if not k.startswith("_")}
    inspect.signature(get_object(cfg.data._target_)).bind(seed=0, **data_keys)


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_option_of_every_group_runs_with_its_own_settings(hydra_initialised, experiment):
    own = compose(config_name="config", overrides=[f"+experiment={experiment}"],
                  return_hydra_config=True)
    for group, option in OPTIONS:
        cfg = composed([f"+experiment={experiment}", f"{group}={option}"])
        check_builds(cfg)
        # the groups not picked keep the experiment's settings (another
        for other in OWN_SETTINGS_GROUPS:
            if other != group and group not in ("data", "model"):  # data or model: other tuning
                assert cfg.get(other) == own.get(other), (group, option, other)
        if option == own.hydra.runtime.choices[group]:
            assert cfg[group] == own[group]  # picking the experiment's own option changes nothing
        else:
            assert OmegaConf.to_container(cfg[group]) == expected_node(cfg, group, option)


def test_typed_keys_are_kept_and_unknown_ones_refused(hydra_initialised):
    cfg = composed(["+experiment=mlp_l2", "optimizer=adamw", "optimizer.lr=0.002",
                    "+optimizer.eps=1e-6", "regularizer=norm_ball", "~regularizer.exclude"])
    assert cfg.optimizer.lr == 0.002 and cfg.optimizer.eps == 1e-6
    assert "momentum" not in cfg.optimizer and "exclude" not in cfg.regularizer
    with pytest.raises(ConfigError, match=r"^regularizer.strength=0.4 is invalid: allowed the "
                       r"keys of regularizer=norm_ball: radius, exclude$"):
        composed(["+experiment=d2l_synthetic", "regularizer=norm_ball",
                  "regularizer.strength=0.4"])


def test_swaps_from_the_command_line(tmp_path):
    """The issue's three commands, each a short real run."""
    short = ["trainer.max_epochs=2", "threads=1"]
    result = run_main(["+experiment=d2l_synthetic", "regularizer=norm_ball",
                       "regularizer.radius=0.4", *short], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    [run_dir] = (tmp_path / "runs" / "d2l_synthetic").iterdir()
    assert run_dir.name.endswith("_norm_ball_radius=0.4_trainer.max_epochs=2_seed=0")
    recorded = OmegaConf.load(run_dir / ".hydra" / "config.yaml")  # what reports read
    assert OmegaConf.to_container(recorded.regularizer) == {
        "_target_": "wdbench.regularizers.NormBall", "radius": 0.4, "exclude": ["1d"]}
    weights = torch.load(run_dir / "checkpoints" / "last.ckpt", weights_only=False)["state_dict"]
    assert weights["model.layers.0.weight"].norm() <= 0.4 + 1e-6

    (tmp_path / "typo").mkdir()
    typo = run_main(["+experiment=d2l_synthetic", "regularizer=norm_ball",
                     "regularizer.strength=0.4", *short], cwd=tmp_path / "typo")
    assert typo.returncode == 2
    assert typo.stderr.strip().splitlines()[-1] == ("error: regularizer.strength=0.4 is invalid: "
                                                    "allowed the keys of regularizer=norm_ball: "
                                                    "radius, exclude")

    result = run_main(["-m", "+experiment=d2l_synthetic", "regularizer=none,l1", *short],
                      cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    configs = {p.parent.parent.name: OmegaConf.load(p).regularizer for p in
               (tmp_path / "runs" / "d2l_synthetic").glob("multirun_*/*/.hydra/config.yaml")}
    assert {name.split(",")[0]: node.get("strength") for name, node in configs.items()} == {
        "regularizer=none": 0.0, "regularizer=l1": 1e-4}


def test_adamw_on_an_sgd_experiment(tmp_path, needs_fashion_mnist):
    result = run_main(["+experiment=mlp_l2", "optimizer=adamw", "trainer.max_epochs=1",
                       "data.train_size=200", "threads=1"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    [summary_path] = (tmp_path / "runs" / "mlp_l2").glob("*/summary.json")
    assert json.loads(summary_path.read_text())["status"] == "completed"
    assert summary_path.parent.name.endswith(  # the typed option tells it from plain mlp_l2
        "_optimizer=adamw_l2_strength=0.001_trainer.max_epochs=1_data.train_size=200_seed=0")
    recorded = OmegaConf.load(summary_path.parent / ".hydra" / "config.yaml").optimizer
    assert recorded.lr == 1e-3 and "momentum" not in recorded
