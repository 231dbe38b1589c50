"""`hydra/launcher=slurm`: submitit's SLURM launcher, less the jobs an earlier run of the same
sweep finished (wdbench.sweep.jobs.finished_jobs), so that re-running an interrupted sweep puts only
its unfinished jobs on the cluster. The jobs left out still count as completed for the sweeper
(their validation loss is the value it sees) and appear in the sweep's table."""

import logging
import os
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from hydra.core.utils import JobReturn, JobStatus
from omegaconf import open_dict

from wdbench.outputs.files import summaries_under
from wdbench.sweep.jobs import finished_jobs

try:
    from hydra_plugins.hydra_submitit_launcher.submitit_launcher import SlurmLauncher
except ImportError:  # not installed: no launcher here, rather than a warning on every run
    SlurmLauncher = None

log = logging.getLogger(__name__)

if SlurmLauncher is not None:

    class ResumingSlurmLauncher(SlurmLauncher):
        job_numbers: list[int] | None = None  # a submitted array's jobs' numbers in the sweep

        def launch(self, job_overrides, initial_job_idx):
            self.job_numbers = None
            done, jobs = self.finished(job_overrides, initial_job_idx)
            if not done:
                return super().launch(job_overrides, initial_job_idx)
            log.info(f"{len(done)} of {len(job_overrides)} jobs finished in an earlier run of "
                     "this sweep (completed or diverged): not submitted")
            todo = [position for position in range(len(job_overrides)) if position not in done]
            self.job_numbers = [initial_job_idx + position for position in todo]
            submitted = iter(super().launch([job_overrides[p] for p in todo], 0) if todo else [])
            return [skipped(*jobs[p], done[p]) if p in done else next(submitted)
                    for p in range(len(job_overrides))]

        def finished(self, job_overrides, initial_job_idx):
            """(summaries of the jobs an earlier run of this sweep finished, by position;
            every job's (directory, overrides)), each job composed as its SLURM job will."""
            if not summaries_under(Path(str(self.config.hydra.sweep.dir)), recursive=True):
                return {}, []  # a new sweep: nothing to compose
            jobs = []
            try:
                for position, overrides in enumerate(job_overrides):
                    config = self.job_config(overrides, initial_job_idx + position)
                    jobs.append((run_dir(config), list(config.hydra.overrides.task)))
            finally:
                HydraConfig.instance().set_config(self.config)  # the sweep's, as submitted
            return finished_jobs(jobs), jobs

        def job_config(self, overrides, number: int):
            config = self.hydra_context.config_loader.load_sweep_config(self.config,
                                                                        list(overrides))
            with open_dict(config.hydra.job):
                config.hydra.job.num = number
                config.hydra.job.id = f"job_id_for_{number}"
            return config

        def __call__(self, sweep_overrides, job_dir_key, job_num, job_id, singleton_state):
            """In the SLURM job: its number in the sweep, not its place in the array."""
            if self.job_numbers is not None:
                job_num = self.job_numbers[job_num]
            return super().__call__(sweep_overrides, job_dir_key, job_num, job_id,
                                    singleton_state)


def run_dir(config) -> Path:
    """The job's directory, resolved as Hydra resolves it when the job runs (`${hydra:...}`
    reads the job's config from HydraConfig)."""
    HydraConfig.instance().set_config(config)
    hydra = config.hydra
    return Path(os.path.abspath(os.path.join(str(hydra.sweep.dir), str(hydra.sweep.subdir))))


def skipped(job_dir: Path, overrides: list[str], summary: dict) -> JobReturn:
    """What the sweeper gets for a job left out: completed, with the run's validation loss
    (what the job itself returns when it finds its run finished)."""
    job = JobReturn(overrides=overrides, working_dir=str(job_dir), status=JobStatus.COMPLETED)
    job.return_value = summary.get("val_loss")
    return job
