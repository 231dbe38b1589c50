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
from wdbench.outputs.rundir import RunDirTaken, claim, register_resolver, remove_refused
from wdbench.regularizers import kind_info
from wdbench.stacked.grid import group_jobs
from wdbench.stacked.run import run_stack
from wdbench.sweep.jobs import failed_jobs, finished_summary, share_threads
from wdbench.sweep.progress import ended_sweeps
from wdbench.sweep.table import summarize_sweep
from wdbench.training.ddp import check_one_process, launched_rank, quiet_child_logging
from wdbench.training.interrupt import RunInterrupted
from wdbench.training.job import Job
from wdbench.training.train import run

log = logging.getLogger("wdbench")
failed_runs: list[str] = []  # jobs of this process that ended in an error
pending: list[Job] = []  # jobs of a vectorized sweep, trained as stacks once all are collected
register_resolver()  # before Hydra composes: the run directories use it
register_name_resolvers()
register_help_resolver()  # the --help page lists conf/'s options


@hydra.main(config_path=str(CONF_DIR), config_name="config", version_base="1.3")
def hydra_main(cfg: DictConfig):
    hydra_cfg = HydraConfig.get()
    run_dir = Path(hydra_cfg.runtime.output_dir)
    overrides = list(hydra_cfg.overrides.task)
    single = hydra_cfg.mode == RunMode.RUN
    try:  # an option picked on the command line runs with its own settings, not the experiment's
        swapped = use_own_settings(cfg, overrides, hydra_cfg.runtime.choices)
        if swapped and launched_rank() == 0:  # the other DDP ranks write nothing
            record_config(cfg, hydra_cfg)
    except WdbenchError as err:
        return fail(err, run_dir, single,
                    summary={"status": "failed", "error": one_line(err), "overrides": overrides})
    if launched_rank() > 0:
        return run_child_rank(cfg, hydra_cfg, run_dir, overrides)
    if hydra_cfg.mode == RunMode.MULTIRUN:
        # Re-running a sweep in the same sweep dir resumes it: finished jobs are not redone.
        done = finished_summary(run_dir, overrides)
        if done is not None:
            log.info("already %s, skipped: %s", done["status"], RunDir(run_dir).summary)
            return done.get("val_loss")
        share_threads(cfg, hydra_cfg)
        if cfg.sweep.vectorize:  # collected here, trained together after the sweep (main)
            return collect_for_stack(cfg, hydra_cfg, run_dir, overrides)
    try:
        claim(run_dir)
        if not single:
            check_one_process(cfg.trainer)
        choices = group_choices(hydra_cfg.runtime.choices)
        summary = run(cfg, run_dir, overrides, choices)
    except RunDirTaken as err:  # another run's directory: write nothing into it
        return fail(err, run_dir, single, summary=None)
    except (WdbenchError, HydraException, OSError) as err:
        # A clear line, a summary that says "failed", and in a sweep the other jobs go on.
        return fail(err, run_dir, single,
                    summary={"status": "failed", "error": one_line(err), "overrides": overrides})
    except RunInterrupted as stop:  # a signal before training began: nothing to resume
        RunDir(run_dir).write_summary({"status": "interrupted", "checkpoint": None,
                                       "signal": stop.name, "overrides": overrides})
        sys.exit(128 + stop.signum)
    except Exception as err:  # a bug: its traceback in wdbench.log; a sweep still goes on
        log.exception("unexpected error")
        summary = {"status": "failed", "error": unexpected(err), "overrides": overrides}
        if single:  # the traceback reaches the user too (main re-raises bugs)
            RunDir(run_dir).write_summary(summary)
            raise
        return fail(err, run_dir, single, summary=summary)
    if summary["status"] == "interrupted":  # the process is being stopped: so is the sweep
        sys.exit(128 + summary["signum"])
    return summary.get("val_loss")  # what a sweeper may optimise: validation, never test


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


def collect_for_stack(cfg: DictConfig, hydra_cfg, run_dir: Path, overrides: list[str]) -> None:
    if not str(hydra_cfg.launcher.get("_target_", "")).endswith("BasicLauncher"):
        print("error: sweep.vectorize=true trains the sweep in this process: it needs Hydra's "
              "basic launcher, not hydra/launcher=" + str(hydra_cfg.runtime.choices.get(
                  "hydra/launcher")), file=sys.stderr)
        sys.exit(2)
    claim(run_dir)
    choices = group_choices(hydra_cfg.runtime.choices)
    pending.append(Job(copy.deepcopy(cfg), run_dir, overrides, choices))


def run_pending_stacks() -> None:
    """Train the collected jobs of a vectorized sweep, a stack per set of configs that differ
    only in per-member hyperparameters. A stack that fails fails its members; the rest go on."""
    max_members = pending[0].cfg.sweep.max_members
    for stack in group_jobs(pending, max_members):
        try:
            if kind_info(stack[0].cfg.regularizer._target_).stackable:
                run_stack(stack)
            else:  # a kind that cannot take a member dimension trains as an ordinary run
                run(stack[0].cfg, stack[0].run_dir, stack[0].overrides, stack[0].choices)
        except Exception as err:  # the stack's members fail; the other stacks go on
            known = isinstance(err, (WdbenchError, HydraException, OSError))
            if not known:
                log.exception("unexpected error")
            for job in stack:
                fail(err, job.run_dir, single=False, summary={
                    "status": "failed", "error": one_line(err) if known else unexpected(err),
                    "overrides": job.overrides})


def fail(err: Exception, run_dir: Path, single: bool, summary: dict | None) -> None:
    # A single run refused for a bad value leaves nothing behind; a sweep's job keeps its
    # failed summary, which the sweep table and the sweep's exit status read.
    if single and isinstance(err, ConfigError) and remove_refused(run_dir):
        summary = None
    if summary is not None:
        try:
            RunDir(run_dir).write_summary(summary)
        except OSError:
            pass  # the directory itself is what failed; the message below says so
    print(f"error: {summary['error'] if summary else one_line(err)}", file=sys.stderr)
    if single:
        sys.exit(2)
    failed_runs.append(str(run_dir))


def unexpected(err: Exception) -> str:
    return f"unexpected {type(err).__name__}: {one_line(err)} (traceback in wdbench.log)"


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
    try:
        hydra_main()
        if pending:
            run_pending_stacks()
        for sweep_dir in ended_sweeps:  # after the stacks: every job has its summary
            print(summarize_sweep(sweep_dir), flush=True)
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
    failed = sorted(set(failed_runs) | set(failed_jobs))  # this process's jobs, and the others'
    if failed:
        print(f"error: {len(failed)} job(s) failed: " + ", ".join(failed), file=sys.stderr)
        sys.exit(1)


def is_user_error(err: Exception) -> bool:
    """Bad overrides, a missing option, an unwritable run directory: things the user fixes.
    Anything else is a bug and keeps its traceback."""
    from omegaconf.errors import OmegaConfBaseException

    return isinstance(err, (HydraException, OmegaConfBaseException, OSError, WdbenchError))
