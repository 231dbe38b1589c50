"""The real command line, in its own process, from a directory that is not the repository."""

import json

from tests.helpers.runs import run_cli


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


def test_an_unexpected_error_fails_its_job_and_the_sweep_goes_on(tmp_path):
    """LBFGS passes the config checks, then fails inside Lightning's fit (it takes no parameter
    groups): an error wdbench does not know, not a one-line user error. Its job says so in summary.json, its log keeps the traceback, the other job
    completes, and the sweep exits 1."""
    sweep = tmp_path / "sweep"
    result = run_cli(["-m", "optimizer._target_=torch.optim.SGD,torch.optim.LBFGS",
                      "~optimizer.momentum", "trainer.max_epochs=1", f"hydra.sweep.dir={sweep}"],
                     cwd=tmp_path)
    assert result.returncode == 1 and "1 job(s) failed" in result.stderr
    [lbfgs] = sweep.glob("*LBFGS*")
    [sgd] = sweep.glob("*SGD*")
    failed = json.loads((lbfgs / "summary.json").read_text())
    assert failed["status"] == "failed"
    assert failed["error"].startswith("unexpected ValueError: ")
    assert failed["error"].endswith("(traceback in wdbench.log)")
    assert "Traceback" in (lbfgs / "wdbench.log").read_text()
    done = json.loads((sgd / "summary.json").read_text())
    assert done["status"] == "completed"


def test_an_unexpected_error_in_one_run_keeps_its_traceback(tmp_path):
    result = run_cli(["optimizer._target_=torch.optim.LBFGS", "~optimizer.momentum",
                      "trainer.max_epochs=1",
                      f"hydra.run.dir={tmp_path / 'run'}"], cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" in result.stderr
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["status"] == "failed" and "ValueError" in summary["error"]
