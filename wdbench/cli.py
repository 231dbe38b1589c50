"""`python -m wdbench ...`: Hydra composes conf/ (found by absolute path, so any cwd works)."""

import copy
import gc
import logging
import os
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import HydraException
from hydra.types import RunMode
from omegaconf import DictConfig

from wdbench.config.compose import CONF_DIR, group_choices
from wdbench.config.help import register_help_resolver
from wdbench.config.messages import one_line
from wdbench.config.swap import record_config, use_own_settings
from wdbench.errors import ConfigError, WdbenchError
from wdbench.outputs.files import RunDir
from wdbench.outputs.run_names import register_name_resolvers
from wdbench.outputs.rundir import MadeRunDirs, RunDirTaken, claim, register_resolver
from wdbench.sweep.jobs import finished_summary, share_threads
from wdbench.training.ddp import check_one_process, launched_rank, quiet_child_logging
from wdbench.training.failure import error_line, failed_summary, is_known, report_failure
from wdbench.training.interrupt import RunInterrupted
from wdbench.training.job import Job
from wdbench.training.train import run

log = logging.getLogger("wdbench")
register_resolver()  # before Hydra composes: the run directories use it (cli.main records them)
register_name_resolvers()
register_help_resolver()  # the --help page lists conf/'s options


class RunJob:
    """Hydra's task function: one job, a single run or one of a sweep. Every error ends the
    job with one line and a summary that says "failed"; a single run then exits with 2, a
    sweep goes on with its other jobs (wdbench.sweep.jobs.FailedJobs ends it with 1)."""

    def __init__(self, run_dirs: MadeRunDirs):
        self.run_dirs = run_dirs  # the run directories this command line made

    def __call__(self, cfg: DictConfig):
        hydra_cfg = HydraConfig.get()
        run_dir = Path(hydra_cfg.runtime.output_dir)
        overrides = list(hydra_cfg.overrides.task)
        single = hydra_cfg.mode == RunMode.RUN
        if launched_rank() > 0:  # a DDP rank that rank 0 started: rank 0 reports any error
            use_own_settings(cfg, overrides, hydra_cfg.runtime.choices)
            return run_child_rank(cfg, hydra_cfg, run_dir, overrides)
        try:
            return run_job(cfg, hydra_cfg, run_dir, overrides)
        except RunInterrupted as stop:  # a signal before training began: nothing to resume
            RunDir(run_dir).write_summary({
                "status": "interrupted", "checkpoint": None, "signal": stop.name,
                "overrides": overrides})
            sys.exit(128 + stop.signum)
        except Exception as err:  # noqa: BLE001 - every error ends the job with its line
            return self.fail(err, run_dir, overrides, single)

    def fail(self, err: Exception, run_dir: Path, overrides: list[str], single: bool) -> None:
        line = error_line(err)
        # Another run's directory gets nothing of this one; a single run refused for a bad
        # value leaves nothing behind; a sweep's job keeps its failed summary, which the
        # sweep's table, its exit status and a re-run read.
        summary = None if isinstance(err, RunDirTaken) else failed_summary(line, overrides)
        if single and isinstance(err, ConfigError) and self.run_dirs.remove_refused(run_dir):
            summary = None
        if single and not is_known(err):  # a bug: its traceback reaches the user too
            RunDir(run_dir).write_summary(summary)
            raise err
        report_failure(line, run_dir, summary)
        if single:
            sys.exit(2)


def run_job(cfg: DictConfig, hydra_cfg, run_dir: Path, overrides: list[str]):
    """What a sweeper may optimise: the validation loss, never the test loss. A vectorized
    sweep's job returns itself, for the launcher to train in its stack."""
    # An option picked on the command line runs with its own settings, not the experiment's.
    if use_own_settings(cfg, overrides, hydra_cfg.runtime.choices):
        record_config(cfg, hydra_cfg)
    choices = group_choices(hydra_cfg.runtime.choices)
    if hydra_cfg.mode == RunMode.MULTIRUN:
        # Re-running a sweep in the same sweep dir resumes it: finished jobs are not redone.
        done = finished_summary(run_dir, overrides)
        if done is not None:
            log.info("already %s, skipped: %s", done["status"], RunDir(run_dir).summary)
            return done.get("val_loss")
        share_threads(cfg, hydra_cfg)
        if cfg.sweep.vectorize:
            check_stacking_launcher(hydra_cfg)
            claim(run_dir)
            return Job(copy.deepcopy(cfg), run_dir, overrides, choices)
    claim(run_dir)
    if hydra_cfg.mode == RunMode.MULTIRUN:
        check_one_process(cfg.trainer)
    summary = run(cfg, run_dir, overrides, choices)
    if summary["status"] == "interrupted":  # the process is being stopped: so is the sweep
        sys.exit(128 + summary["signum"])
    return summary.get("val_loss")


def run_child_rank(cfg: DictConfig, hydra_cfg, run_dir: Path, overrides: list[str]) -> None:
    """A DDP rank that rank 0 started: it trains in rank 0's directory and writes nothing
    there. It ends with status 0 however the run ends (Lightning stops every rank when one
    exits otherwise, before rank 0 has written the run's summary); errors keep theirs."""
    claim(run_dir, wait_s=cfg.ddp_timeout)
    log.setLevel(logging.WARNING)  # the progress lines are rank 0's
    choices = group_choices(hydra_cfg.runtime.choices)
    try:
        run(cfg, run_dir, overrides, choices)
    except RunInterrupted:  # before training began: rank 0 reports it
        pass


def check_stacking_launcher(hydra_cfg) -> None:
    """A vectorized sweep's jobs only collect themselves: the default launcher trains them."""
    if not str(hydra_cfg.launcher.get("_target_", "")).endswith(".StackingLauncher"):
        print("error: sweep.vectorize=true trains the sweep in this process: it needs the "
              "default launcher (hydra/launcher=stacking), not hydra/launcher="
              + str(hydra_cfg.runtime.choices.get("hydra/launcher")), file=sys.stderr)
        sys.exit(2)


def main() -> None:
    # Hydra prints a traceback (or several lines) for errors it meets before the run starts;
    # with HYDRA_FULL_ERROR it re-raises them instead, and we print one line. A user who set
    # HYDRA_FULL_ERROR=1 still gets the full traceback.
    users_choice = os.environ.get("HYDRA_FULL_ERROR")
    os.environ["HYDRA_FULL_ERROR"] = "1"
    # The objects of the imports (torch, Lightning, Hydra) live as long as the process: out of
    # the garbage collector's full passes, which would pause a sweep of small runs again and again.
    gc.freeze()
    quiet_child_logging()
    run_dirs = MadeRunDirs()
    register_resolver(run_dirs)
    task = hydra.main(config_path=str(CONF_DIR), config_name="config", version_base="1.3")
    try:
        task(RunJob(run_dirs))()
    except Exception as err:
        if users_choice == "1" or not is_user_error(err):
            raise
        print(f"error: {one_line(err, sys.argv[1:])}", file=sys.stderr)
        sys.exit(2)
    finally:
        if users_choice is None:
            os.environ.pop("HYDRA_FULL_ERROR", None)
        else:
            os.environ["HYDRA_FULL_ERROR"] = users_choice


def is_user_error(err: Exception) -> bool:
    """Bad overrides, a missing option, an unwritable run directory: things the user fixes.
    Anything else is a bug and keeps its traceback."""
    from omegaconf.errors import OmegaConfBaseException

    return isinstance(err, (HydraException, OmegaConfBaseException, OSError, WdbenchError))
