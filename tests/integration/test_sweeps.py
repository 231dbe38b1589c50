"""Sweeps through the real command line: grid experiments, the joblib and submitit (local)
launchers with their thread shares, resuming a sweep, and the Optuna λ search."""

import json
import os

import pytest
import yaml
from hydra import compose, initialize_config_dir
from hydra.types import RunMode

from tests.helpers.runs import run_cli, run_main
from wdbench.config.compose import CONF_DIR
from wdbench.sweep.jobs import job_threads

CORES = len(os.sched_getaffinity(0))
TINY = ["+experiment=lambda_grid_synthetic", "trainer.max_epochs=3", "seed=0"]


def summaries(sweep_dir) -> dict:
    return {p.parent.name: json.loads(p.read_text()) for p in sweep_dir.glob("*/summary.json")}


def by_strength(sweep_dir) -> dict:
    """{"3": summary} from job directories named "regularizer.strength=3,seed=0,..."."""
    found = {}
    for name, summary in summaries(sweep_dir).items():
        parts = dict(part.split("=", 1) for part in name.split(","))
        found[parts["regularizer.strength"]] = summary
    return found


def job_dir(sweep_dir, strength):
    (path,) = sweep_dir.glob(f"regularizer.strength={strength},*")
    return path


@pytest.mark.parametrize("threads,launcher,cores,env,expected", [
    (None, {"n_jobs": 2}, 2, None, 1),          # joblib: cores / jobs
    (None, {"n_jobs": 2}, 8, None, 4),
    (None, {"n_jobs": -1}, 8, None, 1),         # -1 = one job per core
    (None, {"n_jobs": -2}, 8, None, 1),         # 7 jobs on 8 cores: still 1 each
    (None, {"n_jobs": 2}, 8, "2", 2),           # OMP_NUM_THREADS caps the share
    (None, {"n_jobs": 4}, 2, None, 1),          # more jobs than cores: never 0
    (None, {"cpus_per_task": 3}, 16, None, 3),  # submitit: the job's own cpus
    (5, {"n_jobs": 2}, 2, None, 5),             # an explicit value wins
    (None, {"_target_": "basic"}, 8, None, None),  # one job at a time: train.py's own rule
])
def test_threads_per_job(threads, launcher, cores, env, expected):
    assert job_threads(threads, launcher, cores, env) == expected


@pytest.mark.parametrize("experiment,size", [("lambda_grid_mlp", 24), ("lambda_grid_linear", 27),
                                             ("lambda_grid_synthetic", 36),
                                             ("lambda_kfold_synthetic", 60)])
def test_grid_experiments_are_sweeps(experiment, size):
    """`python -m wdbench +experiment=NAME` (no -m) runs the whole grid."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose("config", [f"+experiment={experiment}"], return_hydra_config=True)
    assert cfg.hydra.mode == RunMode.MULTIRUN
    count = 1
    for values in cfg.hydra.sweeper.params.values():
        count *= len(str(values).split(","))
    assert count == size
    assert 0 in [float(v) for v in str(cfg.hydra.sweeper.params["regularizer.strength"]).split(",")]


def test_parallel_sweep_shares_cores_and_resumes(tmp_path):
    """joblib runs the grid with cores // 2 threads per job, and a failing job (λ = -1) stops
    no other; re-running the same sweep dir skips the finished run, reruns the failed and the
    interrupted one, and runs the new one."""
    sweep = tmp_path / "sweep"
    args = [*TINY, "hydra/launcher=parallel", "hydra.launcher.n_jobs=2",
            f"hydra.sweep.dir={sweep}"]
    first = run_cli([*args, "regularizer.strength=-1,0,1,3"], cwd=tmp_path)
    assert first.returncode == 1 and "1 job(s) failed" in first.stderr
    runs = by_strength(sweep)
    assert runs.pop("-1")["status"] == "failed"
    assert sorted(runs) == ["0", "1", "3"]
    assert {r["status"] for r in runs.values()} == {"completed"}
    assert {r["threads"] for r in runs.values()} == {max(1, CORES // 2)}

    kept, failed, killed = (job_dir(sweep, v) for v in (0, 1, 3))
    kept_before = (kept / "summary.json").read_text()
    bad = json.loads((failed / "summary.json").read_text()) | {"status": "failed"}
    (failed / "summary.json").write_text(json.dumps(bad))
    (killed / "summary.json").unlink()  # as if the job had been killed mid-run

    # resuming is the task's own doing, the same under every launcher: the basic one is quicker
    second = run_main([*TINY, f"hydra.sweep.dir={sweep}", "regularizer.strength=0,1,3,10"],
                      cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    runs = by_strength(sweep)
    assert sorted(runs) == ["-1", "0", "1", "10", "3"]
    assert all(runs[s]["status"] == "completed" for s in ("0", "1", "3", "10"))
    assert (kept / "summary.json").read_text() == kept_before  # not run again
    assert "already completed, skipped" in (kept / "wdbench.log").read_text()


def test_submitit_local_launcher(tmp_path):
    """The submitit launcher's real code path (pickled job, its own process) on this machine;
    torch threads follow cpus_per_task."""
    sweep = tmp_path / "sweep"
    result = run_cli([*TINY, "hydra/launcher=local", "hydra.launcher.cpus_per_task=1",
                      "regularizer.strength=3", f"hydra.sweep.dir={sweep}"], cwd=tmp_path,
                     timeout=300)
    assert result.returncode == 0, result.stderr
    (run,) = summaries(sweep).values()
    assert run["status"] == "completed" and run["threads"] == 1
    assert list((sweep / ".submitit").glob("*/*_result.pkl"))  # it went through submitit


def test_optuna_search_optimises_validation_and_resumes(tmp_path):
    """Each trial is an ordinary run; the best trial is the one with the lowest validation
    loss (not test); a re-run with more trials replays the finished ones from their
    summaries and adds the rest."""
    sweep = tmp_path / "search"
    args = ["+experiment=lambda_search_synthetic", "trainer.max_epochs=5",
            f"hydra.sweep.dir={sweep}"]
    first = run_main([*args, "hydra.sweeper.n_trials=3"], cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    runs = summaries(sweep)
    assert len(runs) == 3
    assert all(list((sweep / name).glob("events.out.tfevents.*")) for name in runs)
    best = yaml.safe_load((sweep / "optimization_results.yaml").read_text())
    by_val = min(runs.values(), key=lambda r: r["val_loss"])
    assert best["best_value"] == pytest.approx(by_val["val_loss"], rel=1e-6)
    assert f"regularizer.strength={best['best_params']['regularizer.strength']}" in \
        by_val["overrides"]

    second = run_main([*args, "hydra.sweeper.n_trials=4"], cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert second.stdout.count("already completed, skipped") + \
        second.stderr.count("already completed, skipped") == 3
    assert len(summaries(sweep)) == 4
