"""A vectorized sweep's jobs, collected by the launcher, trained a stack at a time: each
stack holds the jobs whose configs differ only in per-member hyperparameters. A stack that
fails fails its members; the other stacks go on."""

from wdbench.regularizers import kind_info
from wdbench.stacked.grid import group_jobs
from wdbench.stacked.run import run_stack
from wdbench.training.failure import error_line, failed_summary, report_failure
from wdbench.training.job import Job
from wdbench.training.train import run


def train_stacks(jobs: list[Job]) -> dict[int, dict]:
    """Every job's summary (failed ones too), by the job's `id`."""
    summaries = {}
    for stack in group_jobs(jobs, jobs[0].cfg.sweep.max_members):
        for job, summary in zip(stack, train_stack(stack)):
            summaries[id(job)] = summary
    return summaries


def train_stack(stack: list[Job]) -> list[dict]:
    try:
        if kind_info(stack[0].cfg.regularizer._target_).stackable:
            return run_stack(stack)
        job = stack[0]  # a kind that cannot take a member dimension trains as an ordinary run
        return [run(job.cfg, job.run_dir, job.overrides, job.choices)]
    except Exception as err:  # noqa: BLE001 - the stack's members fail; the others go on
        line = error_line(err)
        summaries = [failed_summary(line, job.overrides) for job in stack]
        for job, summary in zip(stack, summaries):
            report_failure(line, job.run_dir, summary)
        return summaries
