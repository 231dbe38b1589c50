"""What a run leaves in its directory, written the same way for one model and for each member
of a stack: the HParams row and the figure (at the end of training, before Lightning closes
the event file), then the checkpoint, history.csv and, last, summary.json."""

import csv
import logging
import time
from pathlib import Path

import pytorch_lightning as pl
import torch

from wdbench.outputs.figure import save_curves
from wdbench.outputs.files import RunDir
from wdbench.outputs.hparams import compared_keys, run_hparams, write_hparams
from wdbench.outputs.summary import build_summary, median
from wdbench.training.interrupt import RunInterrupted, interruption_summary

log = logging.getLogger("wdbench")


def run_title(hparams: dict) -> str:
    """E.g. "d2l_synthetic: l2, strength 3, seed 0"."""
    strength = hparams.get("regularizer.strength")
    kind = hparams.get("regularizer", "?")
    numeric = isinstance(strength, (int, float)) and not isinstance(strength, bool)
    described = f"{kind}, strength {strength:g}" if numeric else kind
    return f"{hparams.get('experiment', '')}: {described}, seed {hparams.get('seed')}"


def write_history(path: Path, history: list[dict]) -> None:
    columns = list(dict.fromkeys(key for row in history for key in row))
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(history)


class RunWriter(pl.Callback):
    """Writes each member's run directory. `jobs`, `configs`, `choices`: one per member;
    `loggers`: a stack's own, one per member (None: the trainer's, which Lightning closes)."""

    def __init__(self, metrics, jobs: list, configs: list[dict], choices: list[dict],
                 loggers: list | None = None):
        self.metrics, self.jobs, self.configs, self.choices = metrics, jobs, configs, choices
        self.loggers = loggers
        self.started = time.time()

    def on_train_start(self, trainer, module) -> None:
        self.started = time.time()

    def on_train_end(self, trainer, module) -> None:
        if not trainer.is_global_zero:  # under DDP rank 0 writes
            return
        for m in range(len(self.jobs)):
            self.write_dashboard(trainer, m)
        for logger in self.loggers or ():
            logger.finalize("success")

    def status(self, member: int, interrupted: RunInterrupted | None = None) -> str:
        return ("interrupted" if interrupted else
                "diverged" if self.metrics.diverged_epochs[member] is not None else "completed")

    def write_dashboard(self, trainer, member: int) -> None:
        """The HParams row and the figure, into the member's event file and directory."""
        history = self.metrics.histories[member]
        if not history:
            return
        last_epoch = history[-1]["epoch"]
        status = self.status(member)
        config = self.configs[member]
        hparams = run_hparams(config, self.choices[member], status)
        logger = self.metrics.logger(trainer, member)
        writer = logger.experiment if logger is not None else None
        if writer is not None:
            job = self.jobs[member]
            write_hparams(writer, hparams, status == "completed",
                          compared_keys(job.run_dir, job.overrides), "acc/test" in history[-1],
                          self.started, step=last_epoch)
        if config["metrics"]["figure"]:
            save_curves(history, run_title(hparams), RunDir(self.jobs[member].run_dir).figure,
                        writer, last_epoch)

    def write_results(self, trainer, module, threads: int, wall_time: float,
                      resumed_from: Path | None = None,
                      interrupted: RunInterrupted | None = None) -> list[dict]:
        """Checkpoint, history.csv and summary.json of every member; time is shared, so each
        member of a stack is charged its share."""
        members = len(self.jobs)
        share = [s / members for s in self.metrics.train_seconds]
        metric_share = [s / members for s in self.metrics.metric_seconds]
        summaries = []
        writes = trainer.is_global_zero  # under DDP the other ranks write nothing
        for m, job in enumerate(self.jobs):
            run_dir = Path(job.run_dir)
            files = RunDir(run_dir)
            history = self.metrics.histories[m]
            if interrupted is None:  # every rank calls it; Lightning's rank 0 writes
                save_checkpoint(trainer, module, m, files.checkpoint, self.configs[m],
                                history)
            if writes:
                write_history(files.history, history)
            status = self.status(m, interrupted)
            extra = {"stacked": {"members": members, "member": m,
                                 "stack_seconds_per_epoch": median(self.metrics.train_seconds)}
                     } if module.members is not None else {}
            if interrupted:
                extra.update(interruption_summary(interrupted, run_dir, job.overrides))
            summary = build_summary(
                status, job.overrides, self.configs[m]["seed"], threads, history, share,
                metric_share, wall_time=wall_time / members,
                diverged_epoch=self.metrics.diverged_epochs[m], steps=trainer.global_step,
                run_dir=str(run_dir), resumed_from=str(resumed_from) if resumed_from else None,
                choices=self.choices[m], **extra)
            summaries.append(summary)
            if not writes:
                continue
            files.write_summary(summary)
            log.info("%s: %s", status, files.summary)
            if interrupted:
                log.warning("%s; continue with: %s", interrupted, summary["resume_with"])
        return summaries


def save_checkpoint(trainer, module, member: int, path: Path, config: dict,
                    history: list[dict]) -> None:
    """Lightning's own checkpoint for one model (it resumes); for a member of a stack, the
    state dict an ordinary model loads, with the same keys."""
    if module.members is None:
        trainer.save_checkpoint(path)
        return
    state = {f"model.{k}": v for k, v in module.model.member_state_dict(member).items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"state_dict": state, "wdbench_config": config, "epoch": history[-1]["epoch"],
                "global_step": trainer.global_step}, path)
