"""Train a stack of jobs as one model: the same assembly, training and writing as an ordinary
run, with a stacked model; each member's run directory is written as its ordinary run's is."""

from wdbench.job import Job
from wdbench.train import run_jobs


def run_stack(jobs: list[Job]) -> list[dict]:
    """Train `jobs` (configs equal but for per-member hyperparameters) as one stacked model."""
    return run_jobs(jobs, stacked=True)
