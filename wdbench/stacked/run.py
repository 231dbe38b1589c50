"""Train a stack of jobs as one model: the same assembly, training and writing as an ordinary
run, with the stacked parts in place of one model's; each member's run directory is written as
its ordinary run's is."""

from wdbench.stacked.grid import stacked_regularizer
from wdbench.stacked.model import StackedMLP
from wdbench.stacked.module import StackedModule
from wdbench.training.job import Job
from wdbench.training.train import Stacking, run_jobs

STACKING = Stacking(regularizer=stacked_regularizer, model=StackedMLP, module=StackedModule)


def run_stack(jobs: list[Job]) -> list[dict]:
    """Train `jobs` (configs equal but for per-member hyperparameters) as one stacked model."""
    return run_jobs(jobs, STACKING)
