"""`hydra/launcher=stacking`, the default: Hydra's basic launcher (each job in this process,
one after the other), which also trains a vectorized sweep (`sweep.vectorize=true`). Its jobs
only collect themselves (each returns its Job); the launcher trains them a stack at a time
before it returns, so the sweeper gets each job's validation loss and the callbacks see a
sweep whose jobs have all ended."""

from hydra.core.utils import JobStatus

from wdbench.internals import basic_launcher
from wdbench.stacked.sweep import train_stacks
from wdbench.sweep.compose_once import compose_once
from wdbench.training.job import Job


class StackingLauncher(basic_launcher()):
    def setup(self, *, hydra_context, task_function, config):
        super().setup(hydra_context=hydra_context, task_function=task_function, config=config)
        self.composed = compose_once(hydra_context)  # the sweeper's check composes each job

    def launch(self, job_overrides, initial_job_idx):
        with self.composed.launching():
            returns = super().launch(job_overrides, initial_job_idx)
        collected = [r for r in returns
                     if r.status == JobStatus.COMPLETED and isinstance(r.return_value, Job)]
        if collected:
            summaries = train_stacks([r.return_value for r in collected])
            for job_return in collected:
                job_return.return_value = summaries[id(job_return.return_value)].get("val_loss")
        return returns
