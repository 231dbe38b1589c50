"""Run directory names: they fit the filesystem's limit for one name (255 bytes), stay readable
(swept keys first), unique within a sweep and the same on a re-run, and a single run's name
says which options and keys were typed. A refused run leaves no directory behind."""

import csv
import json
from pathlib import Path

import yaml
from hydra import compose, initialize_config_dir
from tensorboard.backend.event_processing.event_multiplexer import EventMultiplexer

from tests.helpers.runs import run_main
from wdbench.config.compose import CONF_DIR
from wdbench.outputs.run_names import CUT, HASH_CHARS, NAME_BYTES, fitted, run_label
from wdbench.sweep.jobs import finished_jobs

# The command of the issue, as given (threads=1 only shares this machine's cores).
ISSUE_KEYS = ["+experiment=d2l_synthetic", "data.train_size=200", "data.batch_size=200",
              "data.noise_std=0.5", "data.true_weight=0.07071067811865475",
              "data.test_size=2000", "model.init_std=1e-4", "optimizer.lr=0.3",
              "trainer.max_epochs=3", "metrics.every_n_epochs=500", "metrics.figure=false",
              "threads=1"]
ISSUE_SWEEP = ["-m", *ISSUE_KEYS, "seed=0,1", "regularizer.strength=0.0625,0.25"]


def recorded_overrides(run_dir: Path) -> list[str]:
    return yaml.safe_load((run_dir / ".hydra" / "overrides.yaml").read_text())


def job_dirs(sweep: Path) -> list[Path]:
    return sorted(p.parent for p in sweep.glob("*/summary.json"))


def test_the_issues_sweep_finishes_and_a_rerun_finds_its_jobs(tmp_path):
    sweep = tmp_path / "sweep"
    result = run_main([*ISSUE_SWEEP, f"hydra.sweep.dir={sweep}"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    jobs = job_dirs(sweep)
    assert len(jobs) == 4 and len({job.name for job in jobs}) == 4
    for job in jobs:
        assert len(job.name.encode()) <= NAME_BYTES
        overrides = recorded_overrides(job)  # the whole list, where the cut name sends one
        seed, strength = (o for o in overrides if o.startswith(("seed=", "regularizer.str")))
        assert job.name.startswith(f"{seed},{strength},data.batch_size=200,")  # swept first
        assert job.name[-HASH_CHARS - len(CUT):-HASH_CHARS] == CUT
        assert json.loads((job / "summary.json").read_text())["status"] == "completed"

    with open(sweep / "sweep_summary.csv") as f:
        rows = list(csv.DictReader(f))
    assert sorted((r["seed"], r["regularizer.strength"]) for r in rows) == [
        ("0", "0.0625"), ("0", "0.25"), ("1", "0.0625"), ("1", "0.25")]
    assert sorted(r["job"] for r in rows) == [job.name for job in jobs]
    runs = EventMultiplexer().AddRunsFromDirectory(str(sweep))
    runs.Reload()
    assert sorted(runs.Runs()) == [job.name for job in jobs]  # TensorBoard's run list

    again = run_main([*ISSUE_SWEEP, f"hydra.sweep.dir={sweep}"], cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert job_dirs(sweep) == jobs
    assert again.stdout.count("already completed, skipped") + again.stderr.count(
        "already completed, skipped") == 4
    assert sorted(finished_jobs([(job, recorded_overrides(job)) for job in jobs])) == [0, 1, 2, 3]


def test_a_single_run_whose_overrides_alone_pass_the_limit(tmp_path):
    overrides = [*ISSUE_KEYS, "seed=3", "regularizer.strength=0.0625", "data.val_size=50",
                 "optimizer.momentum=0.5"]
    assert len(" ".join(overrides).encode()) > NAME_BYTES
    result = run_main(overrides, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    [run_dir] = (tmp_path / "runs" / "d2l_synthetic").iterdir()
    assert len(run_dir.name.encode()) <= NAME_BYTES
    assert run_dir.name[20:].startswith("l2_strength=0.0625_data.train_size=200_")
    assert run_dir.name[-HASH_CHARS - len(CUT):-HASH_CHARS] == CUT
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["overrides"] == overrides


def test_fitted_counts_bytes_and_keeps_names_apart():
    """A name that fits is left whole; `λ` is one character but two bytes, so these 15
    overrides fit 255 characters and not 255 bytes; the cut keeps every part that fits."""
    parts = [f"k{i}=" + "λ" * 10 for i in range(15)]
    whole = ",".join(parts)
    assert fitted(parts[:3], ",", NAME_BYTES) == ",".join(parts[:3])
    assert len(whole) < NAME_BYTES < len(whole.encode())
    cut = fitted(parts, ",", NAME_BYTES)
    kept = cut[:-len(CUT) - HASH_CHARS].rstrip(",").split(",")
    assert kept == parts[:len(kept)] and len(cut.encode()) <= NAME_BYTES
    assert len(",".join([*kept, parts[len(kept)], CUT + "0" * HASH_CHARS]).encode()) > NAME_BYTES
    assert fitted(parts, ",", NAME_BYTES) == cut  # the same overrides, the same name
    other = fitted([*parts[:-1], "k14=λ"], ",", NAME_BYTES)
    assert other != cut and other[:-HASH_CHARS] == cut[:-HASH_CHARS]  # only the hash differs
    alone = fitted(["data.root=" + "é" * 300], ",", NAME_BYTES)  # one override too long
    assert len(alone.encode()) <= NAME_BYTES and alone.startswith("data.root=éé")


def label(overrides: list[str]) -> str:
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return run_label(_root_=compose(config_name="config", overrides=overrides,
                                        return_hydra_config=True))


def test_a_single_runs_name_says_which_options_and_keys_were_typed():
    assert label(["+experiment=mlp_l2"]) == "l2_strength=0.001_seed=0"
    assert label(["+experiment=mlp_l2", "optimizer=adamw"]) == (
        "optimizer=adamw_l2_strength=0.001_seed=0")
    assert label([]) == "none_seed=0"
    assert label(["data=fashion_mnist", "model=linear"]) == (
        "data=fashion_mnist_model=linear_none_seed=0")
    # where, not what (threads, data.root, resume) stays out; the typed strength shows once
    assert label(["regularizer=l2", "regularizer.strength=3", "trainer.max_epochs=2",
                  "threads=1", "seed=2"]) == "l2_strength=3_trainer.max_epochs=2_seed=2"


def test_a_refused_run_leaves_no_directory_and_keeps_what_was_there(tmp_path):
    bad = ["regularizer=l2", "regularizer.strength=-1", "threads=1"]
    (tmp_path / "fresh").mkdir()
    result = run_main(bad, cwd=tmp_path / "fresh")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith(
        "error: regularizer.strength=-1 is invalid")
    assert list((tmp_path / "fresh").iterdir()) == []

    earlier = tmp_path / "used" / "runs" / "default" / "earlier_run"
    earlier.mkdir(parents=True)
    (earlier / "summary.json").write_text("{}")
    explicit = tmp_path / "used" / "mine"
    explicit.mkdir()
    (explicit / "notes.txt").write_text("mine")
    assert run_main(bad, cwd=tmp_path / "used").returncode == 2
    assert run_main([*bad, f"hydra.run.dir={explicit}"], cwd=tmp_path / "used").returncode == 2
    assert [p.name for p in earlier.parent.iterdir()] == ["earlier_run"]
    assert (earlier / "summary.json").read_text() == "{}"
    assert (explicit / "notes.txt").read_text() == "mine"  # a directory it did not make
