"""The final-metric table is the one list: a row added to it (for the test's duration) reaches
every reader at once (summary.json, the HParams columns, the sweep table, the report's
averages and tables, run collection, the progress line), and its names are each one metric."""

import json

import pytest

from wdbench.metrics import callback, catalog
from wdbench.metrics.catalog import FINAL_METRICS, FinalMetric
from wdbench.outputs import hparams, summary
from wdbench.outputs.files import RunDir
from wdbench.report import aggregate, collect, markdown
from wdbench.sweep import table

EXTRA = FinalMetric("weights/extra", "weight_extra", "extra of w", progress=True, hparams=99,
                    sweep=99, sweep_title="extra", report=99, report_header="extra of w",
                    report_table=True)


@pytest.fixture
def extra_row(monkeypatch):
    monkeypatch.setattr(catalog, "FINAL_METRICS", [*FINAL_METRICS, EXTRA])


def test_an_added_row_reaches_the_summary_hparams_and_the_progress_line(extra_row):
    last = {"epoch": 2, "loss/train": 0.5, "weights/extra": 0.25}
    assert summary.final_metrics(last)["weight_extra"] == 0.25
    assert ("weights/extra", "extra of w") in hparams.metric_columns(classification=False)
    assert "weights extra 0.25" in callback.single_model_line(2, 2, last, [])


def test_an_added_row_reaches_the_sweep_table(extra_row, tmp_path):
    job = RunDir(tmp_path / "strength=1")
    job.overrides.parent.mkdir(parents=True)
    job.overrides.write_text("- regularizer.strength=1\n")
    job.summary.write_text(json.dumps({"status": "completed", "weight_extra": 0.125}))
    text = table.summarize_sweep(tmp_path)
    assert "extra" in text.splitlines()[1] and "0.125" in text
    assert "weight_extra" in (tmp_path / "sweep_summary.csv").read_text().splitlines()[0]


def test_an_added_row_reaches_the_report(extra_row):
    assert "weight_extra" in collect.summary_keys()
    assert aggregate.averaged_metrics()[-1] == "weight_extra"
    assert aggregate.table_metrics()[-1] == "weight_extra"
    assert "weight_extra" in aggregate.chosen_details()
    assert markdown.header("weight_extra") == "extra of w"


def test_without_the_row_no_reader_has_it():
    """The fixture's row is gone again, and the readers above did not copy it at import."""
    assert "weight_extra" not in summary.final_metrics({"weights/extra": 1.0})
    assert all(tag != "weights/extra" for tag, _ in hparams.metric_columns(True))
    assert all(key != "weight_extra" for key, _, _ in table.result_columns())


def test_each_tag_and_key_names_one_metric():
    tags = [m.tag for m in FINAL_METRICS]
    keys = [m.key for m in FINAL_METRICS if m.key is not None]
    assert len(set(tags)) == len(tags) and len(set(keys)) == len(keys)
    for position in ("hparams", "sweep", "report"):
        places = [getattr(m, position) for m in catalog.placed(position)]
        assert len(set(places)) == len(places), position


def test_the_dashboards_first_columns_are_rows_with_an_hparams_place():
    placed = {m.tag for m in catalog.placed("hparams")}
    for first in catalog.HPARAMS_FIRST.values():
        assert set(first) <= placed and len(first) == 5
