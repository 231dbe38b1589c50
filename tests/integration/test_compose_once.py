"""A sweep composes each job's config once: the sweeper's check composes it, and the launcher
runs that config instead of composing it again."""

import json

from hydra._internal.config_loader_impl import ConfigLoaderImpl
from omegaconf import OmegaConf

from tests.helpers.runs import run_main

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
        named = dict(part.split("=") for part in path.parent.name.split(","))
        recorded = OmegaConf.load(path.parent / ".hydra" / "config.yaml")
        assert recorded.regularizer.strength == float(named["regularizer.strength"])
        assert recorded.seed == int(named["seed"])

