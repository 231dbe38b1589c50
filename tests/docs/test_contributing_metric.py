"""CONTRIBUTING.md's worked example of a metric, as the page shows it: a measurer and a row
of the final-metric table, nothing else, reach summary.json, the HParams columns, the sweep
table and a report. The two snippets go into a copy of the package, and the page's sweep runs
there through the real command line (Hydra multirun, Lightning, TensorBoard)."""

import csv
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.helpers.contributing import copy_env, copy_package, run_in, section, section_commands
from tests.helpers.tb import hparams_data, read_events
from wdbench.outputs.files import RunDir

HEADING = "A per-epoch metric: its measurer and its row"
SNIPPET = re.compile(r"```python\n# (\S+), at (?:its end|the end of FINAL_METRICS)\n(.*?)```",
                     re.DOTALL)
TABLE_START = "FINAL_METRICS = [\n"


def snippets() -> dict[str, str]:
    return dict(SNIPPET.findall(section(HEADING)))


def with_row(catalog: str, row: str) -> str:
    """The catalogue's text with `row` as the last row of FINAL_METRICS."""
    start = catalog.index(TABLE_START)
    end = catalog.index("\n]\n", start)
    return catalog[: end + 1] + row + catalog[end + 1 :]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory) -> Path:
    """The copy with the measurer and the row, after the page's sweep and a report on it."""
    root = copy_package(tmp_path_factory.mktemp("metric"))
    parts = snippets()
    measures = root / "wdbench/metrics/measures.py"
    measures.write_text(measures.read_text() + "\n\n" + parts["wdbench/metrics/measures.py"])
    catalog = root / "wdbench/metrics/catalog.py"
    catalog.write_text(with_row(catalog.read_text(), parts["wdbench/metrics/catalog.py"]))
    [command] = section_commands(HEADING)
    done = run_in(root, command, "runs/sweep")
    assert done.returncode == 0, done.stderr[-2000:]
    report = ("from wdbench.report.build import make_report; "
              "make_report(['runs/sweep'], 'runs/report')")
    made = subprocess.run([sys.executable, "-c", report], cwd=root, env=copy_env(root),
                          capture_output=True, text=True, timeout=300, check=False)
    assert made.returncode == 0, made.stderr[-2000:]
    return root / "runs"


def job_dirs(sweep: Path) -> list[RunDir]:
    return [RunDir(p.parent) for p in sorted((sweep / "sweep").glob(f"*/{RunDir.SUMMARY}"))]


def test_the_page_shows_a_measurer_a_row_and_a_command():
    assert sorted(snippets()) == ["wdbench/metrics/catalog.py", "wdbench/metrics/measures.py"]
    assert len(section_commands(HEADING)) == 1


def test_the_metric_is_in_each_summary_and_equals_its_formula(sweep):
    """rms = ‖w‖₂ / √n for the n regularised weights (the linear model's 2-D weight), to
    float32 rounding: both come from the same float32 weights, summed in another order."""
    jobs = job_dirs(sweep)
    assert len(jobs) == 2
    for job in jobs:
        summary = job.read_summary()
        state = torch.load(job.checkpoint, map_location="cpu", weights_only=False)["state_dict"]
        count = sum(v.numel() for k, v in state.items() if k.startswith("model.") and v.ndim == 2)
        expected = summary["weight_l2"] / math.sqrt(count)
        assert summary["weight_rms"] == pytest.approx(expected, rel=1e-5)


def test_the_metric_is_an_hparams_column(sweep):
    for job in job_dirs(sweep):
        experiment = hparams_data(read_events(job.path))["experiment"].experiment
        columns = {m.name.tag: m.display_name for m in experiment.metric_infos}
        assert columns["weights/rms"] == "rms of w"


def test_the_metric_is_a_sweep_table_column(sweep):
    with open(sweep / "sweep" / "sweep_summary.csv") as f:
        shown = {row["job"]: float(row["weight_rms"]) for row in csv.DictReader(f)}
    assert shown == {job.path.name: pytest.approx(job.read_summary()["weight_rms"])
                     for job in job_dirs(sweep)}
    assert "| rms w |" in (sweep / "sweep" / "sweep_summary.md").read_text()


def test_the_metric_is_a_report_column(sweep):
    with open(sweep / "report" / "configurations.csv") as f:
        rows = list(csv.DictReader(f))
    means = sorted(float(r["weight_rms"]) for r in rows)
    assert means == pytest.approx(sorted(j.read_summary()["weight_rms"] for j in job_dirs(sweep)))
    assert "rms of w" in (sweep / "report" / "report.md").read_text()
