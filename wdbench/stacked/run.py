"""Train a stack of jobs as one model and write every member's run directory exactly as an
ordinary run writes its own: summary.json, history.csv, TensorBoard events with the HParams
row and the figure, and a checkpoint an ordinary model loads."""

import copy
import logging
import time
from pathlib import Path

import pytorch_lightning as pl
import torch
from omegaconf import OmegaConf
from pytorch_lightning.loggers import TensorBoardLogger

from wdbench.errors import ConfigError
from wdbench.figure import save_curves
from wdbench.hparams import choices_from_targets, run_hparams, write_hparams
from wdbench.models import check_batch_norm_rows
from wdbench.resume import CHECKPOINT
from wdbench.run_report import FIGURE_FILE, run_title
from wdbench.stacked.grid import PER_MEMBER, Job, member_values
from wdbench.stacked.metrics import StackedMetrics
from wdbench.stacked.model import StackedMLP
from wdbench.stacked.module import StackedModule
from wdbench.summary import build_summary, write_json_atomic
from wdbench.train import build, quiet_lightning, set_threads, write_history
from wdbench.validate import check_run_settings

log = logging.getLogger("wdbench")


def stacked_regularizer(jobs: list[Job]):
    regularizer = build(jobs[0].cfg.regularizer)
    regularizer.members = len(jobs)
    for key in PER_MEMBER:
        values = member_values(jobs, key)
        if values is not None:
            for job in jobs[1:]:  # each member's own value must be valid on its own
                build(job.cfg.regularizer)
            regularizer.stack_members(key, values)
    return regularizer


def member_models(cfg, data, count: int) -> list:
    """Each member initialised exactly as its ordinary run would be (same seed, same order)."""
    pl.seed_everything(cfg.seed, verbose=False)
    first = build(cfg.model, in_features=data.num_features, out_features=data.num_outputs)
    return [first] + [copy.deepcopy(first) for _ in range(count - 1)]


def run_stack(jobs: list[Job]) -> list[dict]:
    """Train `jobs` (configs equal but for per-member hyperparameters) as one stacked model."""
    started = time.perf_counter()
    quiet_lightning()
    cfg = jobs[0].cfg
    threads = set_threads(cfg.threads)
    check_run_settings(cfg)
    if cfg.get("resume"):
        raise ConfigError("resume", cfg.resume, "null with sweep.vectorize=true")
    regularizer = stacked_regularizer(jobs)
    make_optimizer = build(cfg.optimizer)
    make_scheduler = build(cfg.scheduler) if cfg.get("scheduler") else None
    pl.seed_everything(cfg.seed, verbose=False)
    data = build(cfg.data, seed=cfg.seed)
    members = member_models(cfg, data, len(jobs))
    check_batch_norm_rows(members[0], len(data.splits.train_x), data.batch_size)
    model = StackedMLP(members)
    configs = [OmegaConf.to_container(job.cfg, resolve=True) for job in jobs]
    module = StackedModule(model, regularizer, make_optimizer, data.task, configs[0],
                           make_scheduler=make_scheduler)
    module.angles.every_n_steps = cfg.metrics.get("angle_every_n_steps", 1)
    loggers = [TensorBoardLogger(str(job.run_dir), name="", version="", default_hp_metric=False)
               for job in jobs]
    metrics = StackedMetrics(data, regularizer, loggers, cfg.metrics.every_n_epochs,
                             cfg.metrics.eval_rows)
    trainer = pl.Trainer(**OmegaConf.to_container(cfg.trainer, resolve=True), logger=False,
                         callbacks=[metrics], enable_checkpointing=False,
                         default_root_dir=str(jobs[0].run_dir))
    log.info("training %d runs as one stacked model: %s", len(jobs),
             ", ".join(Path(job.run_dir).name for job in jobs))
    trainer.fit(module, datamodule=data)
    wall = time.perf_counter() - started
    return [write_member(m, job, configs[m], module, metrics, threads, wall, trainer.global_step)
            for m, job in enumerate(jobs)]


def write_member(m: int, job: Job, config: dict, module, metrics, threads: int, wall: float,
                 steps: int) -> dict:
    history = metrics.histories[m]
    diverged = metrics.diverged_epochs[m]
    status = "diverged" if diverged is not None else "completed"
    members = len(metrics.histories)
    run_dir = Path(job.run_dir)
    checkpoint = {"state_dict": {f"model.{k}": v for k, v in
                                 module.model.member_state_dict(m).items()},
                  "wdbench_config": config, "epoch": history[-1]["epoch"], "global_step": steps}
    (run_dir / CHECKPOINT).parent.mkdir(parents=True, exist_ok=True)
    torch.save(checkpoint, run_dir / CHECKPOINT)
    write_history(run_dir / "history.csv", history)
    choices = job.choices or choices_from_targets(config)
    # Time is shared: each member is charged its share of the stack's epochs.
    share = [seconds / members for seconds in metrics.train_seconds]
    summary = build_summary(
        status, job.overrides, config["seed"], threads, history, share,
        [seconds / members for seconds in metrics.metric_seconds], wall_time=wall / members,
        diverged_epoch=diverged, steps=steps, run_dir=str(run_dir), choices=choices,
        resumed_from=None, stacked={"members": members, "member": m,
                                    "stack_seconds_per_epoch": sorted(metrics.train_seconds)[
                                        len(metrics.train_seconds) // 2]},
    )
    hparams = run_hparams(config, choices, status)
    writer = metrics.loggers[m].experiment
    classification = "acc/test" in history[-1]
    write_hparams(writer, hparams, diverged is None, job.overrides, classification,
                  time.time() - wall, step=history[-1]["epoch"])
    if config["metrics"]["figure"]:
        save_curves(history, run_title(hparams), run_dir / FIGURE_FILE, writer,
                    history[-1]["epoch"])
    metrics.loggers[m].finalize("success")
    write_json_atomic(run_dir / "summary.json", summary)
    log.info("%s: %s", status, run_dir / "summary.json")
    return summary
