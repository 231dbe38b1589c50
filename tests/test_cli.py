"""The real command line, in its own process, from a directory that is not the repository."""

import json

from conftest import run_cli


def test_mlp_l2_from_another_cwd(tmp_path, needs_fashion_mnist):
    result = run_cli(["+experiment=mlp_l2", "data.train_size=300", "trainer.max_epochs=2"],
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    summaries = list((tmp_path / "runs" / "mlp_l2").glob("*/summary.json"))
    assert len(summaries) == 1
    summary = json.loads(summaries[0].read_text())
    assert summary["status"] == "completed" and summary["epochs"] == 2
    assert summary["train_acc"] is not None and summary["test_acc"] is not None


def test_two_job_multirun_names_dirs_by_overrides(tmp_path):
    result = run_cli(["-m", "+experiment=d2l_synthetic", "regularizer.strength=0,3"],
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    summaries = sorted((tmp_path / "runs" / "d2l_synthetic").glob("multirun_*/*/summary.json"))
    names = [p.parent.name for p in summaries]
    assert names == ["regularizer.strength=0", "regularizer.strength=3"]
    free, decayed = (json.loads(p.read_text()) for p in summaries)
    assert decayed["weight_l2"] < free["weight_l2"] / 10


def test_bad_value_is_one_clear_line(tmp_path):
    result = run_cli(["regularizer=l2", "regularizer.strength=-1"], cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error: regularizer.strength=-1 is invalid")
    assert "Traceback" not in result.stderr
