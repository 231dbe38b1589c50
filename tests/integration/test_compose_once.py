"""A sweep composes each job's config at most once: the sweeper's check composes it, and the
launcher runs that config instead of composing it again; a job that differs from a composed
one in values only is derived from it, and is the config Hydra would have composed."""

import json

import pytest
from hydra import initialize_config_dir
from hydra._internal.config_loader_impl import ConfigLoaderImpl
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import ConfigCompositionException
from hydra.types import RunMode
from omegaconf import OmegaConf

from tests.helpers.runs import run_main
from wdbench.config.compose import CONF_DIR
from wdbench.internals import sweep_cross_product
from wdbench.sweep.compose_once import ValuesDerived

SHORT = ["trainer.max_epochs=1", "data.train_size=40", "threads=1", "metrics.figure=false"]


def counting(monkeypatch) -> list[tuple[str, ...]]:
    """The sweep overrides of every composition Hydra's config loader makes."""
    calls = []
    compose = ConfigLoaderImpl.load_sweep_config

    def counted(self, master_config, sweep_overrides):
        calls.append(tuple(sweep_overrides))
        return compose(self, master_config, sweep_overrides)

    monkeypatch.setattr(ConfigLoaderImpl, "load_sweep_config", counted)
    return calls


def test_a_sweep_of_values_composes_its_first_job_only(tmp_path, monkeypatch):
    calls = counting(monkeypatch)
    result = run_main(["-m", "regularizer=l2", "regularizer.strength=0,0.1,1", "seed=0,1",
                       *SHORT, "hydra.sweep.dir=sweep"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    # the first job composed; the other five differ from it in values only: derived from it
    assert len(calls) == 1
    summaries = [json.loads(p.read_text()) for p in (tmp_path / "sweep").glob("*/summary.json")]
    assert len(summaries) == 6 and all(s["status"] == "completed" for s in summaries)
    # each job ran its own config: the strength and seed its directory name says
    for path in (tmp_path / "sweep").glob("*/summary.json"):
        named = dict(part.split("=") for part in path.parent.name.split(","))
        recorded = OmegaConf.load(path.parent / ".hydra" / "config.yaml")
        assert recorded.regularizer.strength == float(named["regularizer.strength"])
        assert recorded.seed == int(named["seed"])



@pytest.fixture(scope="module")
def loader():
    """Hydra's config loader over conf/, as a sweep's launcher gets it."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        yield GlobalHydra.instance().config_loader()


class Counted:
    """The loader, counting the jobs it composes."""

    def __init__(self, loader):
        self.loader, self.composed = loader, 0

    def load_sweep_config(self, master_config, sweep_overrides):
        self.composed += 1
        return self.loader.load_sweep_config(master_config, sweep_overrides)

    def list_groups(self, parent_name):
        return self.loader.list_groups(parent_name)


def master_and_jobs(loader, command: list[str]) -> tuple:
    """The master config of `python -m wdbench -m COMMAND`, and its first and last jobs'
    overrides (they differ in every swept key), the experiment's own grid (hparams_search/)
    included, as Hydra's basic sweeper makes them."""
    master = loader.load_configuration("config", command, run_mode=RunMode.MULTIRUN)
    params = master.hydra.sweeper.params or {}
    task = [*master.hydra.overrides.task, *(f"{k}={v}" for k, v in params.items())]
    jobs = sweep_cross_product(OverridesParser.create().parse_overrides(task))
    return master, (jobs[0], jobs[-1])


def same_config(derived, composed) -> None:
    """The same tree, unresolved, and the same struct and read-only flags where Hydra sets them
    (the root, and Hydra's node)."""
    assert (OmegaConf.to_container(derived, resolve=False)
            == OmegaConf.to_container(composed, resolve=False))
    for flag in (OmegaConf.is_struct, OmegaConf.is_readonly):
        for a, b in ((derived, composed), (derived.hydra, composed.hydra)):
            assert flag(a) == flag(b), flag.__name__


def basic_sweeper_grid(experiment) -> bool:
    """An experiment with its own grid for Hydra's basic sweeper (not an Optuna search)."""
    text = experiment.read_text()
    search = CONF_DIR / "hparams_search" / f"{experiment.stem}.yaml"
    text += search.read_text() if search.is_file() else ""
    return ("hparams_search" in text or "params:" in text) and "optuna" not in text


EXPERIMENTS_WITH_GRIDS = sorted(p.stem for p in (CONF_DIR / "experiment").glob("*.yaml")
                                if basic_sweeper_grid(p))

HAND_MADE = [  # (master command, jobs' overrides): values of every kind, and what is not derived
    (["seed=0,1,2"], [["seed=0"], ["seed=1"], ["seed=2"]]),
    (["model=mlp", "model.hidden=[64],[32,16]", "optimizer.lr=1e-3,null"],
     [["model=mlp", "model.hidden=[64]", "optimizer.lr=1e-3"],
      ["model=mlp", "model.hidden=[32,16]", "optimizer.lr=null"],
      ["model=mlp", "model.hidden=[32,16]", "optimizer.lr=${regularizer.strength}"]]),
    (["~optimizer.momentum", "+optimizer.eps=1e-6", "name='a b',c"],
     [["~optimizer.momentum", "+optimizer.eps=1e-6", "name='a b'"],
      ["~optimizer.momentum", "+optimizer.eps=1e-6", "name=c"]]),
    (["optimizer=sgd,adamw", "seed=0,1"],  # another group: composed
     [["optimizer=sgd", "seed=0"], ["optimizer=adamw", "seed=0"], ["optimizer=adamw", "seed=1"]]),
    (["metrics={figure: false},{eval_rows: 10}"],  # a dict merges: composed
     [["metrics={figure: false}"], ["metrics={eval_rows: 10}"]]),
    (["hydra.job.name=a", "seed=0,1"],  # Hydra's own keys, set by the master config
     [["seed=0"], ["seed=1"]]),
]


@pytest.mark.parametrize("experiment", EXPERIMENTS_WITH_GRIDS)
def test_a_job_derived_from_another_is_the_config_hydra_composes(loader, experiment):
    """Ground truth: Hydra's own composition of each job (ConfigLoaderImpl.load_sweep_config),
    compared whole, Hydra's node included, unresolved."""
    master, (first, last) = master_and_jobs(loader, [f"+experiment={experiment}"])
    counted = Counted(loader)
    derive = ValuesDerived(counted)
    derive.load_sweep_config(master, first)  # composed by Hydra: the template
    assert first != last
    same_config(derive.load_sweep_config(master, last), loader.load_sweep_config(master, last))
    # the last job derived, unless the grid sweeps a config group (a folder of conf/)
    picks_groups = any((CONF_DIR / key).is_dir() for key in master.hydra.sweeper.params)
    assert counted.composed == (2 if picks_groups else 1)


@pytest.mark.parametrize(("command", "jobs"), HAND_MADE)
def test_values_of_every_kind_derive_as_hydra_composes(loader, command, jobs):
    master = loader.load_configuration("config", command, run_mode=RunMode.MULTIRUN)
    counted = Counted(loader)
    derive = ValuesDerived(counted)
    for job in jobs:
        same_config(derive.load_sweep_config(master, job), loader.load_sweep_config(master, job))
    composed = {"optimizer=sgd,adamw": 2, "metrics={figure: false},{eval_rows: 10}": 2}
    assert counted.composed == composed.get(command[0], 1)


def test_a_key_the_config_lacks_is_hydras_error(loader):
    master = loader.load_configuration("config", ["seed=0,1"], run_mode=RunMode.MULTIRUN)
    derive = ValuesDerived(loader)
    derive.load_sweep_config(master, ["seed=0"])
    with pytest.raises(ConfigCompositionException, match="Could not override 'sede'"):
        derive.load_sweep_config(master, ["sede=1"])
