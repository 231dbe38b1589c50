"""The two λ-setting presets as real stacked Hydra sweeps on real Fashion-MNIST, shrunk to a
2 x 2 grid and one epoch, and scripts/report.py's two-knob report over what they wrote."""

import json

import pandas as pd

from tests.helpers.runs import REPO, run_main, run_script

SHRINK = ["trainer.max_epochs=1", "metrics.eval_rows=100", "threads=1"]


def report(sweep, out, *extra) -> None:
    made = run_script(REPO / "scripts" / "report.py", [str(sweep), "--out", str(out), *extra])
    assert made.returncode == 0, made.stderr


def summaries(sweep) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(sweep.glob("*/summary.json"))]


def test_lr_lambda_plane_preset_stacks_and_reports(tmp_path, needs_fashion_mnist):
    """L&H's AdamW (decay not scaled by the lr): one stack of two λ per lr and seed."""
    sweep = tmp_path / "plane"
    result = run_main(["+experiment=lr_lambda_plane_adamw_unscaled", "optimizer.lr=1e-3,1e-2",
                       "regularizer.strength=1e-3,1e-2", "seed=0,1", "data.train_size=256",
                       *SHRINK, f"hydra.sweep.dir={sweep}"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    found = summaries(sweep)
    assert len(found) == 8 and all(s["status"] == "completed" for s in found)
    assert all(s["stacked"]["members"] == 2 for s in found)
    report(sweep, tmp_path / "out", "--plane", "optimizer.lr", "regularizer.strength")
    choices = pd.read_csv(tmp_path / "out" / "plane.csv")
    assert sorted(choices[choices["seed"] == "mean"]["x"]) == [1e-3, 1e-2]
    assert (tmp_path / "out" / "heatmaps.png").stat().st_size > 0


def test_lambda_vs_data_size_preset_counts_the_whole_training_set(tmp_path,
                                                                  needs_fashion_mnist):
    """data.train_size=null trains on 55,000 images: the 60,000 less the validation split."""
    sweep = tmp_path / "sizes"
    result = run_main(["+experiment=lambda_vs_data_size", "data.train_size=512,null",
                       "regularizer.strength=0.1,1", "seed=0", *SHRINK,
                       f"hydra.sweep.dir={sweep}"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert len(summaries(sweep)) == 4
    report(sweep, tmp_path / "out", "--plane", "data.train_size", "regularizer.strength",
           "--data-size")
    choices = pd.read_csv(tmp_path / "out" / "plane.csv")
    assert sorted(choices[choices["seed"] == "mean"]["x"]) == [512, 55_000]
    assert "Best τ in epochs per training-set size" in (tmp_path / "out" / "report.md").read_text()


def test_batch_norm_plane_preset_stacks_and_reports(tmp_path, needs_fashion_mnist):
    """The batch-norm plane (torch's AdamW): batch norm in every member of a stack of two λ,
    and the report's predicted slope is the hidden weight's scale symmetry's, −1."""
    sweep = tmp_path / "plane_bn"
    result = run_main(["+experiment=lr_lambda_plane_bn", "optimizer.lr=1e-3,1e-2",
                       "regularizer.strength=0.1,1", "seed=0", "data.train_size=256",
                       *SHRINK, f"hydra.sweep.dir={sweep}"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    found = summaries(sweep)
    assert len(found) == 4 and all(s["status"] == "completed" for s in found)
    assert all(s["stacked"]["members"] == 2 for s in found)
    report(sweep, tmp_path / "out", "--plane", "optimizer.lr", "regularizer.strength")
    slopes = pd.read_csv(tmp_path / "out" / "slopes.csv")
    assert list(slopes["predicted"]) == [-1.0]
    assert slopes["predicted from"][0].startswith("batch norm")
