"""CONTRIBUTING.md's worked examples of a data set (its function and its YAML) and of a report
(a grid, an experiment, scripts/report.py), as the page shows them: the files go into a copy of
the package and the page's commands run there through the real command line."""

import csv
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.contributing import copy_env, copy_package, section_commands, section_files
from tests.helpers.runs import REPO
from wdbench.outputs.files import RunDir

DATASET = "A new dataset: its function and its YAML"
REPORT = "A report: a grid, an experiment, a stage"


def run(root: Path, command: list[str]) -> subprocess.CompletedProcess:
    assert command[0] == "python"
    extra = ["threads=1", "metrics.figure=false"] if command[1:3] == ["-m", "wdbench"] else []
    return subprocess.run([sys.executable, *command[1:], *extra], cwd=root, env=copy_env(root),
                          capture_output=True, text=True, timeout=300, check=False)


def strength(summary: dict) -> float:
    [value] = [o.split("=")[1] for o in summary["overrides"] if o.startswith("regularizer.strength=")]
    return float(value)


def summaries(folder: Path) -> list[dict]:
    return [RunDir(p.parent).read_summary() for p in sorted(folder.glob(f"*/{RunDir.SUMMARY}"))]


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> Path:
    """The package with the page's four files, and scripts/report.py beside it."""
    root = copy_package(tmp_path_factory.mktemp("dataset"))
    (root / "scripts").mkdir()
    shutil.copy(REPO / "scripts/report.py", root / "scripts/report.py")
    for path, text in {**section_files(DATASET), **section_files(REPORT)}.items():
        assert not (root / path).exists(), f"{path} would replace a file of the package"
        (root / path).write_text(text)
    return root


def ceiling(distance: float, test_size: int) -> float:
    """Phi(distance/2), the Bayes accuracy of two unit-variance Gaussians `distance` apart, plus
    3 binomial standard deviations of a test set that size (sampling noise, not model error)."""
    best = 0.5 * (1 + math.erf(distance / 2 / math.sqrt(2)))
    return best + 3 * math.sqrt(best * (1 - best) / test_size)


def test_the_page_shows_each_file_and_command():
    assert sorted(section_files(DATASET)) == ["conf/data/two_blobs.yaml", "wdbench/data/two_blobs.py"]
    assert sorted(section_files(REPORT)) == ["conf/experiment/two_blobs_lambda.yaml",
                                     "conf/hparams_search/two_blobs_lambda.yaml"]
    assert len(section_commands(DATASET)) == 2 and len(section_commands(REPORT)) == 2


def test_the_new_dataset_trains_and_sweeps(checkout):
    single, sweep = section_commands(DATASET)
    done = run(checkout, [*single, "hydra.run.dir=runs/one"])
    assert done.returncode == 0, done.stderr[-2000:]
    swept = run(checkout, [*sweep, "hydra.sweep.dir=runs/sweep"])
    assert swept.returncode == 0, swept.stderr[-2000:]
    one = RunDir(checkout / "runs/one").read_summary()
    runs = sorted(summaries(checkout / "runs/sweep"), key=strength)
    assert [s["status"] for s in [one, *runs]] == ["completed"] * 4
    assert all(s["test_acc"] <= ceiling(1.0, 1000) for s in [one, *runs])
    gaps = [s["gap_loss"] for s in runs]
    assert gaps == sorted(gaps, reverse=True), gaps  # decay narrows the generalisation gap


def test_the_report_chooses_lambda_inside_its_grid(checkout):
    sweep, report = section_commands(REPORT)
    swept = run(checkout, sweep)
    assert swept.returncode == 0, swept.stderr[-2000:]
    made = run(checkout, report)
    assert made.returncode == 0, made.stderr[-2000:]
    out = checkout / report[report.index("--out") + 1]
    rows = list(csv.DictReader((out / "configurations.csv").open()))
    grid = sorted(float(r["regularizer.strength"]) for r in rows)
    assert grid == [0, 0.1, 0.3, 1, 3]
    chosen = min(rows, key=lambda r: float(r["val_loss"]))
    assert grid[0] < float(chosen["regularizer.strength"]) < grid[-1]
    assert "strength=" in (out / "report.md").read_text()
