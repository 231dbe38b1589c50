"""A sweep composes each job's config once: the sweeper's check composes it, and the launcher
runs that config instead of composing it again."""

import json

from hydra._internal.config_loader_impl import ConfigLoaderImpl

from tests.helpers.runs import run_main
from wdbench.sweep.compose_once import ComposedOnce

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


def test_each_job_of_a_sweep_is_composed_once(tmp_path, monkeypatch):
    calls = counting(monkeypatch)
    result = run_main(["-m", "regularizer=l2", "regularizer.strength=0,0.1,1", "seed=0,1",
                       *SHORT, "hydra.sweep.dir=sweep"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert len(calls) == 6 and len(set(calls)) == 6  # 3 x 2 jobs, each once
    summaries = [json.loads(p.read_text()) for p in (tmp_path / "sweep").glob("*/summary.json")]
    assert len(summaries) == 6 and all(s["status"] == "completed" for s in summaries)
    # each job ran its own config: the strength and seed its directory name says
    for path in (tmp_path / "sweep").glob("*/summary.json"):
        config = (path.parent / ".hydra" / "config.yaml").read_text()
        strength = path.parent.name.split("regularizer.strength=")[1].split(",")[0]
        seed = path.parent.name.split("seed=")[1].split(",")[0]
        assert f"strength: {strength}" in config and f"seed: {seed}\n" in config


class Loader:
    """A config loader that makes a new object at each composition, and counts them."""

    def __init__(self):
        self.composed = 0
        self.other = "the loader's own attribute"

    def load_sweep_config(self, master_config, sweep_overrides):
        self.composed += 1
        return {"overrides": list(sweep_overrides), "number": self.composed}


def test_a_checked_config_is_handed_out_once_and_only_inside_a_launch():
    loader = ComposedOnce(Loader())
    master = object()
    checked = loader.load_sweep_config(master, ["a=1"])  # the sweeper's check
    duplicate = loader.load_sweep_config(master, ["a=1"])  # the same job twice in a batch
    with loader.launching():
        assert loader.load_sweep_config(master, ["a=1"]) is checked
        assert loader.load_sweep_config(master, ["a=1"]) is duplicate
        again = loader.load_sweep_config(master, ["a=1"])  # none kept: composed anew
        assert again["number"] == 3
        assert loader.load_sweep_config(master, ["b=2"])["number"] == 4  # never checked
    assert loader.loader.composed == 4 and not loader.kept
    # outside a launch a call composes, so a check never gets a config a launcher had
    assert loader.load_sweep_config(master, ["a=1"])["number"] == 5
    assert loader.load_sweep_config(object(), ["a=1"])["number"] == 6  # another master config
    assert loader.other == "the loader's own attribute"


def test_beyond_its_limit_a_job_is_composed_again_at_launch():
    """A sweep of many jobs keeps at most `keep_at_most` configs; the others compose twice."""
    loader = ComposedOnce(Loader(), keep_at_most=2)
    master = object()
    checked = [loader.load_sweep_config(master, [f"a={i}"]) for i in range(3)]
    with loader.launching():
        launched = [loader.load_sweep_config(master, [f"a={i}"]) for i in range(3)]
    assert launched[:2] == checked[:2] and launched[2] is not checked[2]
    assert loader.loader.composed == 4
