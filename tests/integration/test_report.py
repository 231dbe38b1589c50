"""scripts/report.py on a real k-fold sweep (synthetic data, a few epochs), with one failing
configuration: numbers checked against the runs' own summaries, both readers agreeing."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from tests.helpers.runs import REPO, run_main, run_script
from wdbench.report.build import make_report
from wdbench.report.plots import log_axis, zero_position

STRENGTHS = ("0", "3")


@pytest.fixture(scope="module")
def kfold_sweep(tmp_path_factory):
    """3 folds x λ in {0, 3, -1}; λ = -1 fails on purpose."""
    root = tmp_path_factory.mktemp("report")
    sweep = root / "kfold"
    result = run_main(["+experiment=lambda_kfold_synthetic", "data.folds=3", "data.fold=0,1,2",
                       "regularizer.strength=0,3,-1", "trainer.max_epochs=4",
                       f"hydra.sweep.dir={sweep}"], cwd=root)
    assert result.returncode == 1 and "3 job(s) failed" in result.stderr
    return root, sweep


def fold_summaries(sweep, strength: str) -> list[dict]:
    """The summaries of one λ's jobs, found by their directory names (Hydra's overrides)."""
    found = []
    for path in sorted(sweep.glob("*/summary.json")):
        overrides = dict(part.split("=", 1) for part in path.parent.name.split(","))
        if overrides["regularizer.strength"] == strength:
            found.append(json.loads(path.read_text()))
    return found


def test_folds_aggregate_to_mean_and_std(kfold_sweep):
    root, sweep = kfold_sweep
    report = make_report([sweep], root / "out")
    table = report["table"].set_index("regularizer.strength")
    assert report["settings"] == [] and report["knobs"] == ["regularizer.strength"]
    for strength in STRENGTHS:
        folds = fold_summaries(sweep, strength)
        assert len(folds) == 3 and all(f["status"] == "completed" for f in folds)
        test_losses = [f["test_loss"] for f in folds]
        row = table.loc[float(strength)]
        assert row["finished"] == 3 and row["runs"] == 3
        assert math.isclose(row["test_loss"], np.mean(test_losses), rel_tol=1e-9)
        assert math.isclose(row["test_loss_std"], np.std(test_losses, ddof=1), rel_tol=1e-9)
    failed = table.loc[-1.0]
    assert failed["runs"] == 3 and failed["finished"] == 0 and math.isnan(failed["test_loss"])

    # λ is chosen on the mean validation loss over folds, never on test
    val_means = {s: np.mean([f["val_loss"] for f in fold_summaries(sweep, s)]) for s in STRENGTHS}
    test_means = {s: np.mean([f["test_loss"] for f in fold_summaries(sweep, s)])
                  for s in STRENGTHS}
    assert list(report["chosen"]) == ["val_loss"]  # regression: no accuracy to choose on
    chosen = report["chosen"]["val_loss"].iloc[0]
    assert chosen["chosen"] == f"strength={float(min(val_means, key=val_means.get)):g}"
    assert chosen["best on test"] == f"strength={float(min(test_means, key=test_means.get)):g}"
    # beside its test score, the chosen configuration's gap and weights (its mean over folds)
    picked = min(val_means, key=val_means.get)
    norms = [f["weight_l2"] for f in fold_summaries(sweep, picked)]
    assert math.isclose(chosen["weight_l2"], np.mean(norms), rel_tol=1e-9)
    gaps = [f["gap_loss"] for f in fold_summaries(sweep, picked)]
    assert math.isclose(chosen["gap_loss"], np.mean(gaps), rel_tol=1e-9)

    text = (root / "out" / "report.md").read_text()
    assert text.count("| failed |") == 3  # listed as failed, not averaged
    assert "-1 | 0/3 |" in text
    assert "| its ‖w‖₂ | its zero weights |" in text
    runs_csv = pd.read_csv(root / "out" / "runs.csv")
    assert len(runs_csv) == 9 and (runs_csv["status"] == "failed").sum() == 3
    png = (root / "out" / "vs_lambda.png").read_bytes()
    assert png.startswith(b"\x89PNG")


def test_a_configuration_one_of_whose_runs_failed_is_not_chosen(kfold_sweep):
    """The λ validation picks gets a fourth run that fails (a fold of 3 that does not exist):
    its mean over the three that finished would still be the best, yet it is not chosen, on
    validation or on test."""
    root, sweep = kfold_sweep
    complete = make_report([sweep], root / "complete")["chosen"]["val_loss"].iloc[0]
    best = complete["chosen"].removeprefix("strength=")
    failing = root / "one_more"
    result = run_main(["+experiment=lambda_kfold_synthetic", "data.folds=3", "data.fold=3",
                       f"regularizer.strength={best}", "trainer.max_epochs=4",
                       f"hydra.sweep.dir={failing}"], cwd=root)
    assert result.returncode == 1 and "1 job(s) failed" in result.stderr
    report = make_report([sweep, failing], root / "one_failed")
    cell = report["table"].set_index("regularizer.strength").loc[float(best)]
    assert cell["runs"] == 4 and cell["finished"] == 3
    assert cell["val_loss"] == complete["val_loss"]  # the mean of the finished runs, as before
    [other] = [s for s in STRENGTHS if float(s) != float(best)]
    chosen = report["chosen"]["val_loss"].iloc[0]
    assert chosen["chosen"] == chosen["best on test"] == f"strength={float(other):g}"


def test_tensorboard_reader_agrees_with_summaries(kfold_sweep):
    root, sweep = kfold_sweep
    from_summary = make_report([sweep], root / "a")["runs"].set_index("run_dir")
    from_events = make_report([sweep], root / "b", source="tensorboard")["runs"]
    from_events = from_events.set_index("run_dir")
    done = from_summary.index[from_summary["status"] == "completed"]
    assert len(done) == 6 and (from_events.loc[done, "status"] == "completed").all()
    for metric in ("train_loss", "val_loss", "test_loss", "gap_loss", "weight_l2"):
        np.testing.assert_allclose(from_events.loc[done, metric].astype(float),
                                   from_summary.loc[done, metric].astype(float), rtol=1e-6)
    # a failed run wrote no events: the event reader says it did not complete
    assert (from_events["status"] != "completed").sum() == 3


def test_script_writes_curves(kfold_sweep):
    root, sweep = kfold_sweep
    out = root / "script"
    result = run_script(REPO / "scripts" / "report.py",
                        [str(sweep), "--out", str(out), "--curves", "--title", "k-fold"])
    assert result.returncode == 0, result.stderr
    assert "9 runs, 6 completed" in result.stdout
    assert (out / "curves.png").read_bytes().startswith(b"\x89PNG")
    report = (out / "report.md").read_text()
    assert "# k-fold" in report
    # the versions the runs recorded (the failed runs' summaries record none)
    import platform

    import torch
    assert f"Versions: python {platform.python_version()}, torch {torch.__version__}, " in report
    assert "(all 6 runs with a summary); 3 runs without a record." in report


def test_lambda_zero_sits_a_decade_left_of_the_smallest():
    import matplotlib.pyplot as plt

    assert zero_position([0, 1e-4, 1e-2]) == pytest.approx(1e-5)
    fig, ax = plt.subplots()
    log_axis(ax, [0, 1e-4, 1e-3, 1e-2])
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels[0] == "0" and ax.get_xticks()[0] == pytest.approx(1e-5)
    assert labels[1:] == ["1e-4", "1e-3", "1e-2"]
    plt.close(fig)


@pytest.mark.parametrize(("values", "labels"), [
    ([0, 3], ["0", "3"]),  # README's sweep: a decade-only axis had no tick for 3
    ([0, 1e-4, 3e-3, 0.01, 0.3, 3, 1000], ["0", "1e-4", "3e-3", "1e-2", "3e-1", "3", "1000"]),
])
def test_every_swept_lambda_is_labelled_in_one_style(values, labels):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    log_axis(ax, values)
    assert [t.get_text() for t in ax.get_xticklabels()] == labels
    positive = [v for v in values if v > 0]
    assert list(ax.get_xticks()[1:]) == pytest.approx(positive)  # each label at its value
    plt.close(fig)


def test_a_folder_without_runs_is_one_line_and_exit_2(tmp_path):
    """The library raises; only the script turns that into a message and an exit code."""
    result = run_script(REPO / "scripts" / "report.py", [str(tmp_path), "--out",
                                                         str(tmp_path / "out")])
    assert result.returncode == 2
    assert result.stderr.startswith("error: no run directories") and result.stderr.count(
        "\n") == 1


def test_readme_sweep_two_seeds_no_validation(tmp_path):
    """README's first sweep (λ = 0, 3; seeds 0, 1; no validation split), shortened: the
    report says in one line why nothing is chosen on validation, and gives no interval from
    2 seeds (Student's t from them ran to a negative test loss)."""
    sweep = tmp_path / "sweep"
    result = run_main(["-m", "+experiment=d2l_synthetic", "regularizer.strength=0,3", "seed=0,1",
                       "trainer.max_epochs=3", f"hydra.sweep.dir={sweep}"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = make_report([sweep], tmp_path / "out")
    text = (tmp_path / "out" / "report.md").read_text()
    assert "Nothing chosen: no run has a val_loss (these runs had no validation split)" in text
    assert "chosen on validation (val_loss) and the best on test" not in text
    assert "2 seeds give no interval" in text
    table = report["table"]
    assert list(table["finished"]) == [2, 2]
    assert table["test_loss_ci_low"].isna().all() and (table["test_loss"] > 0).all()


def test_a_reports_runs_csv_reads_back_as_its_runs(kfold_sweep):
    """A report made from its own runs.csv (the run directories elsewhere) has the same
    configurations, choices and paired table; given beside the directories it came from, each
    run counts once. The sweep's nulls (data.folds' neighbours), lists, booleans and a failed
    configuration all go through the CSV."""
    root, sweep = kfold_sweep
    first = make_report([sweep], root / "from_dirs")
    again = make_report([root / "from_dirs" / "runs.csv"], root / "from_csv")
    pd.testing.assert_frame_equal(again["table"], first["table"])
    for name in ("configurations.csv", "runs.csv"):
        assert (root / "from_csv" / name).read_text() == (root / "from_dirs" / name).read_text()
    both = make_report([root / "from_dirs" / "runs.csv", sweep], root / "both")
    assert len(both["runs"]) == len(first["runs"]) == 9
