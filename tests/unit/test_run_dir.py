"""RunDir owns a run directory's file names: each is spelled once in the package, and a run's
summary reads back as the run left it (absent or partial: None)."""

import re

from tests.helpers.runs import REPO
from wdbench.outputs.files import RunDir

NAMES = ("summary.json", "history.csv", "last.ckpt", "overrides.yaml", "hydra.yaml",
         ".wdbench-run")


def spellings(name: str) -> list[str]:
    """The package's files whose code (not prose) holds `name` in a string literal."""
    literal = re.compile(r"[\"'/]" + re.escape(name) + r"[\"']")
    files = [*(REPO / "wdbench").rglob("*.py"), *(REPO / "hydra_plugins").rglob("*.py")]
    return sorted(str(p.relative_to(REPO)) for p in files if literal.search(p.read_text()))


def test_each_file_name_is_spelled_in_run_dir_alone():
    for name in NAMES:
        assert spellings(name) == ["wdbench/outputs/files.py"], name


def test_a_summary_reads_back_as_written_and_a_partial_one_as_none(tmp_path):
    run = RunDir(tmp_path)
    assert run.read_summary() is None and run.status() is None
    run.write_summary({"status": "completed", "test_loss": 0.5})
    assert run.read_summary() == {"status": "completed", "test_loss": 0.5}
    assert run.status() == "completed"
    run.summary.write_text('{"status": "compl')  # what a killed writer without the rename leaves
    assert run.read_summary() is None
