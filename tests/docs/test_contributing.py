"""CONTRIBUTING.md's worked example, as the page shows it: a new regulariser kind is its class
and its YAML, nothing else. The two files are written into a copy of the package, and the
page's two commands run there through the real command line."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.contributing import copy_package, section_commands, section_files
from tests.helpers.contributing import run_in as run

HEADING = "A new regulariser kind: its class and its YAML"
METRICS = ("train_loss", "test_loss", "gap_loss", "weight_l2", "weight_l1")


def example_files() -> dict[str, str]:
    return section_files(HEADING)


def example_commands() -> list[list[str]]:
    return section_commands(HEADING)


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> Path:
    """The package, its configs and Hydra plugins copied, with the example's two files."""
    root = copy_package(tmp_path_factory.mktemp("contributor"))
    for path, text in example_files().items():
        assert not (root / path).exists(), f"{path} would replace a file of the package"
        (root / path).write_text(text)
    return root


def test_the_page_shows_a_class_a_yaml_and_two_commands():
    assert sorted(example_files()) == ["conf/regularizer/half_square.yaml",
                                       "wdbench/regularizers/half_square.py"]
    assert len(example_commands()) == 2


def test_the_package_registers_the_new_kind_on_import(checkout):
    """What the tests parametrised over the registry see: the kind without its _target_."""
    code = ("from wdbench.regularizers import KINDS; info = KINDS['half_square']; "
            "print(info.kind.__name__, info.per_member)")
    seen = subprocess.run([sys.executable, "-c", code], cwd=checkout, capture_output=True,
                          text=True, env={"PYTHONPATH": str(checkout)}, check=False)
    assert seen.stdout.split() == ["HalfSquare", "('strength',)"], seen.stderr[-2000:]


def test_the_new_kind_trains_as_l2_and_stacks(checkout):
    single, sweep = example_commands()
    mine = run(checkout, single, "runs/mine")
    assert mine.returncode == 0, mine.stderr[-2000:]
    as_l2 = [word.replace("regularizer=half_square", "regularizer=l2") for word in single]
    l2 = run(checkout, as_l2, "runs/l2")
    assert l2.returncode == 0, l2.stderr[-2000:]
    ours = json.loads((checkout / "runs/mine/summary.json").read_text())
    theirs = json.loads((checkout / "runs/l2/summary.json").read_text())
    assert ours["status"] == theirs["status"] == "completed"
    # the same term by the same arithmetic: equal to the last digit
    assert {m: ours[m] for m in METRICS} == {m: theirs[m] for m in METRICS}

    stacked = run(checkout, sweep, "runs/sweep")
    assert stacked.returncode == 0, stacked.stderr[-2000:]
    summaries = [json.loads(p.read_text())
                 for p in sorted((checkout / "runs/sweep").glob("*/summary.json"))]
    assert len(summaries) == 2
    assert all(s["stacked"]["members"] == 2 for s in summaries)
    assert {s["status"] for s in summaries} == {"completed"}
