"""`python -m wdbench ...`: Hydra composes conf/ (found by absolute path, so any cwd works)."""

import logging
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from wdbench.errors import WdbenchError
from wdbench.summary import write_json_atomic
from wdbench.sweep import failed_jobs, finished_summary, share_threads
from wdbench.train import run

CONF_DIR = Path(__file__).resolve().parent.parent / "conf"
log = logging.getLogger("wdbench")
failed_runs: list[str] = []  # jobs of this process that ended in an error


@hydra.main(config_path=str(CONF_DIR), config_name="config", version_base="1.3")
def hydra_main(cfg: DictConfig):
    hydra_cfg = HydraConfig.get()
    run_dir = Path(hydra_cfg.runtime.output_dir)
    overrides = list(hydra_cfg.overrides.task)
    if hydra_cfg.mode == RunMode.MULTIRUN:
        # Re-running a sweep in the same sweep dir resumes it: finished jobs are not redone.
        done = finished_summary(run_dir, overrides)
        if done is not None:
            log.info("already %s, skipped: %s", done["status"], run_dir / "summary.json")
            return done.get("val_loss")
        share_threads(cfg, hydra_cfg)
    try:
        summary = run(cfg, run_dir, overrides)
    except WdbenchError as err:
        # A clear line, a summary that says "failed", and in a sweep the other jobs go on.
        write_json_atomic(run_dir / "summary.json",
                          {"status": "failed", "error": str(err), "overrides": overrides})
        print(f"error: {err}", file=sys.stderr)
        if hydra_cfg.mode == RunMode.RUN:
            sys.exit(2)
        failed_runs.append(str(run_dir))
        return None
    return summary.get("val_loss")  # what a sweeper may optimise: validation, never test


def main() -> None:
    hydra_main()
    failed = sorted(set(failed_runs) | set(failed_jobs))  # this process's jobs, and the others'
    if failed:
        print(f"error: {len(failed)} job(s) failed: " + ", ".join(failed), file=sys.stderr)
        sys.exit(1)
