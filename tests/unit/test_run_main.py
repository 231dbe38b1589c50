"""tests/helpers/runs.py's run_main and run_script: the command line's entry point, and a
script, in this process answer as `python -m wdbench` and `python SCRIPT` do, and what one
call leaves behind reaches neither the next call nor the next test."""

import os
import subprocess
import sys

from tests.helpers.runs import REPO, run_cli, run_main, run_script

REFUSED = ["regularizer=l2", "regularizer.strength=-1", "threads=1"]
TINY = ["trainer.max_epochs=1", "threads=1"]


def test_in_process_answers_as_the_process_does(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    own, here = run_cli(REFUSED, cwd=tmp_path / "a"), run_main(REFUSED, cwd=tmp_path / "b")
    assert (here.returncode, here.stderr) == (own.returncode, own.stderr) == (2, (
        "error: regularizer.strength=-1 is invalid: allowed a finite number >= 0\n"))
    assert list((tmp_path / "b").iterdir()) == list((tmp_path / "a").iterdir()) == []


def test_a_failed_sweep_is_not_counted_again_by_the_next_call(tmp_path):
    cwd, argv, full_error = os.getcwd(), list(sys.argv), os.environ.get("HYDRA_FULL_ERROR")
    failed = run_main(["-m", *TINY, "optimizer.lr=-1"], cwd=tmp_path)
    assert failed.returncode == 1 and "error: 1 job(s) failed" in failed.stderr
    assert (os.getcwd(), sys.argv) == (cwd, argv)
    assert os.environ.get("HYDRA_FULL_ERROR") == full_error
    after = run_main(["-m", *TINY, "seed=0,1"], cwd=tmp_path)
    assert after.returncode == 0, after.stderr
    assert after.stdout.count("sweep of ") == 1  # its own table, not the first's too


def test_a_script_in_process_answers_as_its_process_does(tmp_path):
    """scripts/report.py on a folder without runs: the same status, streams and files."""
    script, path = REPO / "scripts" / "report.py", list(sys.path)
    args = [[str(tmp_path), "--out", str(tmp_path / out)] for out in ("a", "b")]
    own = subprocess.run([sys.executable, str(script), *args[0]], capture_output=True,
                         text=True, check=False)
    here = run_script(script, args[1])
    assert (here.returncode, here.stdout) == (own.returncode, own.stdout) == (2, "")
    assert here.stderr == own.stderr and here.stderr.startswith("error: no run directories")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]  # each made its --out
    assert sys.path == path  # the script's folder, and what it added, are gone again
