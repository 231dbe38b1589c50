"""Which jobs of a re-run sweep a launcher leaves out (wdbench.sweep.jobs.finished_jobs): those whose
run directory holds the summary of a finished run of the same overrides."""

import json
from pathlib import Path

from wdbench.sweep.jobs import finished_jobs

OVERRIDES = ["seed=0", "trainer.max_epochs=2"]


def job(root: Path, name: str, summary: dict | str | None) -> tuple[Path, list[str]]:
    run_dir = root / name
    run_dir.mkdir()
    if isinstance(summary, dict):
        (run_dir / "summary.json").write_text(json.dumps(summary))
    elif isinstance(summary, str):
        (run_dir / "summary.json").write_text(summary)
    return run_dir, OVERRIDES


def test_only_finished_runs_of_the_same_overrides_are_left_out(tmp_path):
    jobs = [
        job(tmp_path, "completed", {"status": "completed", "overrides": OVERRIDES[::-1],
                                    "val_loss": 0.5}),
        job(tmp_path, "failed", {"status": "failed", "overrides": OVERRIDES}),
        job(tmp_path, "diverged", {"status": "diverged", "overrides": OVERRIDES}),
        job(tmp_path, "interrupted", {"status": "interrupted", "overrides": OVERRIDES}),
        job(tmp_path, "killed_before_its_summary", None),
        job(tmp_path, "partial_summary", '{"status": "compl'),
        job(tmp_path, "other_overrides", {"status": "completed", "overrides": ["seed=1"]}),
        (tmp_path / "never_created", OVERRIDES),
    ]
    done = finished_jobs(jobs)
    assert sorted(done) == [0, 2]
    assert done[0]["val_loss"] == 0.5 and done[2]["status"] == "diverged"


def test_a_new_sweep_leaves_out_nothing(tmp_path):
    assert finished_jobs([(tmp_path / f"job{i}", OVERRIDES) for i in range(3)]) == {}
