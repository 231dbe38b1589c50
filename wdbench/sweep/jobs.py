"""What a job of a sweep needs to know about the sweep: its share of the cores, and whether an
earlier run of the same sweep already finished it (so re-running a sweep resumes it)."""

import os
import sys
import time
from pathlib import Path

from hydra.core.utils import JobStatus
from hydra.experimental.callback import Callback

from wdbench.outputs.files import RunDir, summaries_under

# A run that ended with one of these has its answer; anything else (failed, no summary at all
# because the job was killed) is run again when the sweep is re-run.
HAS_ANSWER = ("completed", "diverged")


def resolved_n_jobs(n_jobs: int, cores: int) -> int:
    """joblib's convention: -1 = all cores, -2 = all but one, ..."""
    return max(1, cores + 1 + n_jobs if n_jobs < 0 else n_jobs)


def job_threads(threads, launcher: dict, cores: int, env_threads) -> int | None:
    """Torch threads for one job. An explicit `threads` wins. Otherwise, where the launcher runs
    jobs side by side, each gets its share so the machine is never oversubscribed:
    joblib: cores // n_jobs; submitit: its `cpus_per_task`. Capped by OMP_NUM_THREADS when set.
    None = not a parallel launcher: train.set_threads' own rule (OMP_NUM_THREADS or all)."""
    if threads is not None:
        return threads
    limit = int(env_threads) if env_threads else cores
    if launcher.get("n_jobs") is not None:
        return max(1, min(limit, cores // resolved_n_jobs(int(launcher["n_jobs"]), cores)))
    if launcher.get("cpus_per_task"):
        return max(1, min(limit, int(launcher["cpus_per_task"])))
    return None


def share_threads(cfg, hydra_cfg) -> None:
    """Set cfg.threads to this job's share when it is null and the launcher runs in parallel."""
    launcher = hydra_cfg.launcher if "launcher" in hydra_cfg else {}
    cores = len(os.sched_getaffinity(0))
    threads = job_threads(cfg.threads, dict(launcher), cores, os.environ.get("OMP_NUM_THREADS"))
    if threads is not None:
        cfg.threads = threads


def finished_summary(run_dir: Path, overrides: list[str]) -> dict | None:
    """The summary of an earlier run of exactly these overrides that finished, else None."""
    summary = RunDir(run_dir).read_summary()
    if summary is None:
        return None
    same = sorted(summary.get("overrides") or []) == sorted(overrides)
    return summary if same and summary.get("status") in HAS_ANSWER else None


def finished_jobs(jobs: list[tuple[Path, list[str]]]) -> dict[int, dict]:
    """Of a sweep's jobs, each given as (run directory, overrides), those an earlier run of the
    same sweep finished: their summaries by position. A launcher submits only the others."""
    done = {}
    for position, (run_dir, overrides) in enumerate(jobs):
        summary = finished_summary(run_dir, overrides)
        if summary is not None:
            done[position] = summary
    return done


def failed_in(sweep_dir: Path, since: float) -> list[str]:
    """Job directories of `sweep_dir` whose summary, written since `since`, says "failed"."""
    failed = []
    for path in summaries_under(sweep_dir):
        try:
            written = path.stat().st_mtime
        except OSError:
            continue
        if written >= since and RunDir(path.parent).status() == "failed":
            failed.append(os.path.abspath(path.parent))  # as Hydra names a job's dir
    return failed


class FailedJobs(Callback):
    """Runs in the process that started the sweep and ends it: with exit status 1 when a job
    failed, whichever launcher ran it (joblib and submitit run jobs in other processes, whose
    memory this one never sees: their failed summaries say so). A job run in this process that
    could not write its summary (its directory another run's) is counted as it ends."""

    def on_multirun_start(self, config, **kwargs) -> None:
        self.started = time.time() - 1  # file times may be coarser than the clock
        self.failed_here: list[str] = []

    def on_job_end(self, config, job_return, **kwargs) -> None:
        if job_return.status != JobStatus.COMPLETED or job_return.return_value is not None:
            return  # a job that failed returns nothing
        run_dir = Path(str(config.hydra.runtime.output_dir))
        if finished_summary(run_dir, list(job_return.overrides or [])) is None:
            getattr(self, "failed_here", []).append(os.path.abspath(run_dir))

    def on_multirun_end(self, config, **kwargs) -> None:
        since = getattr(self, "started", 0.0)
        found = failed_in(Path(config.hydra.sweep.dir), since)
        failed = sorted(set(found) | set(getattr(self, "failed_here", [])))
        if failed:  # the last word of the sweep: nothing of Hydra's comes after it
            print(f"error: {len(failed)} job(s) failed: " + ", ".join(failed), file=sys.stderr)
            sys.exit(1)
