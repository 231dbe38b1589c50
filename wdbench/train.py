"""One run: instantiate everything from the config here, pass ready objects down."""

import csv
import logging
import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytorch_lightning as pl
import torch
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.loggers import TensorBoardLogger
from pytorch_lightning.utilities.exceptions import MisconfigurationException

from wdbench.callbacks import EpochMetrics
from wdbench.errors import ConfigError, WdbenchError
from wdbench.hparams import choices_from_targets
from wdbench.interrupt import RunInterrupted, StopOnSignal, interruption_summary, raise_on_signal
from wdbench.models import check_batch_norm_rows
from wdbench.module import LOSSES, RegularizedModule
from wdbench.resume import CHECKPOINT, checkpoint_to_resume
from wdbench.run_report import RunReport
from wdbench.summary import build_summary, write_json_atomic
from wdbench.validate import (
    check_combination,
    check_optimizer,
    check_run_settings,
    explain_trainer_error,
    explain_type_error,
)

log = logging.getLogger("wdbench")


def quiet_lightning() -> None:
    """Lightning's banners ("GPU available: ...") and warnings that do not apply to in-memory
    tensor batches would bury the progress lines."""
    for name in ("pytorch_lightning", "lightning.pytorch", "lightning_fabric", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")
    warnings.filterwarnings("ignore", message=".*smaller than the logging interval.*")
    warnings.filterwarnings("ignore", message=".*litlogger.*")
    warnings.filterwarnings("ignore", message=".*LeafSpec.*")


def build(node: DictConfig, **kwargs):
    """`instantiate`, except that a WdbenchError raised by the target comes out as itself
    (Hydra wraps it), so the command line can print its one clear line."""
    try:
        return instantiate(node, **kwargs)
    except InstantiationException as err:
        cause = err.__cause__
        if isinstance(cause, TypeError):  # an unknown key, e.g. +model.hiden=3
            cause = explain_type_error(cause, node, passed=set(kwargs))
        if isinstance(cause, ImportError):
            cause = ConfigError(f"{node._get_full_key(None)}._target_", node.get("_target_"),
                                "an importable class or function")
        if isinstance(cause, WdbenchError):
            raise cause from None
        raise


def set_threads(threads) -> int:
    """null = OMP_NUM_THREADS if set, else every core this process may use; parallel jobs
    pass their share (two processes with 2 threads each on 2 cores ran 40x slower)."""
    if threads is None:
        threads = int(os.environ.get("OMP_NUM_THREADS") or len(os.sched_getaffinity(0)))
    if not isinstance(threads, int) or threads < 1:
        raise ConfigError("threads", threads, "a positive integer, or null for all cores")
    torch.set_num_threads(threads)
    return threads


def make_trainer(trainer_cfg: DictConfig, run_dir: Path, callbacks: list) -> pl.Trainer:
    # name="" and version="" put the event files straight into the run directory, so
    # `tensorboard --logdir runs/` names each run by its directory.
    logger = TensorBoardLogger(str(run_dir), name="", version="", default_hp_metric=False)
    return pl.Trainer(
        **OmegaConf.to_container(trainer_cfg, resolve=True),
        logger=logger,
        callbacks=callbacks,
        enable_checkpointing=False,
        default_root_dir=str(run_dir),
    )


def write_history(path: Path, history: list[dict]) -> None:
    columns = list(dict.fromkeys(key for row in history for key in row))
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(history)


@dataclass
class Prepared:
    """A run ready to train: every value checked, every part built."""

    data: object
    module: RegularizedModule
    metrics: EpochMetrics
    trainer: pl.Trainer
    threads: int
    resume_from: Path | None
    choices: dict


def prepare(cfg: DictConfig, run_dir: Path, overrides: list[str], choices: dict | None = None
            ) -> Prepared:
    """Validate and instantiate everything, cheapest checks first: a bad value stops the run
    here, before the data is read and long before training."""
    threads = set_threads(cfg.threads)
    check_run_settings(cfg)
    config = OmegaConf.to_container(cfg, resolve=True)
    resume_from = checkpoint_to_resume(cfg.get("resume"), config)
    regularizer = build(cfg.regularizer)
    make_optimizer = build(cfg.optimizer)
    check_optimizer(cfg.optimizer, make_optimizer)
    check_combination(regularizer)
    pl.seed_everything(cfg.seed, verbose=False)

    data = build(cfg.data, seed=cfg.seed)
    model = build(cfg.model, in_features=data.num_features, out_features=data.num_outputs)
    check_batch_norm_rows(model, len(data.splits.train_x), data.batch_size)
    make_scheduler = build(cfg.scheduler) if cfg.get("scheduler") else None  # none.yaml is empty
    loss_fn = LOSSES[data.task]
    choices = choices or choices_from_targets(config)
    module = RegularizedModule(model, regularizer, make_optimizer, loss_fn, config,
                               make_scheduler=make_scheduler)
    module.angles.every_n_steps = cfg.metrics.get("angle_every_n_steps", 1)
    metrics = EpochMetrics(data, regularizer, loss_fn, cfg.metrics.every_n_epochs,
                           cfg.metrics.eval_rows)
    report = RunReport(metrics, config, choices, overrides, run_dir)
    stopper = StopOnSignal(run_dir / CHECKPOINT, overrides)
    try:
        trainer = make_trainer(cfg.trainer, run_dir, [metrics, report, stopper])
    except (TypeError, ValueError, MisconfigurationException) as err:
        raise explain_trainer_error(err, cfg.trainer) from None
    return Prepared(data, module, metrics, trainer, threads, resume_from, choices)


def fit(p: Prepared) -> RunInterrupted | None:
    """Train; a signal ends training at a batch boundary with a checkpoint (returned)."""
    try:
        p.trainer.fit(p.module, datamodule=p.data, ckpt_path=p.resume_from)
    except RunInterrupted as stop:
        if stop.checkpoint is None:  # before the first batch: nothing to save or resume
            raise
        return stop
    return None


def run(cfg: DictConfig, run_dir: Path, overrides: list[str], choices: dict | None = None):
    """Train, evaluate, and write summary.json, history.csv, events, curves.png and the
    checkpoint. `choices`: each config group's option (Hydra's runtime.choices); without it
    (compose API) they are found from the config's `_target_`s."""
    started = time.perf_counter()
    quiet_lightning()
    with raise_on_signal():
        p = prepare(cfg, run_dir, overrides, choices)
        interrupted = fit(p)

    if interrupted is None:
        p.trainer.save_checkpoint(run_dir / CHECKPOINT)
    metrics = p.metrics
    write_history(run_dir / "history.csv", metrics.history)
    status = ("interrupted" if interrupted else
              "diverged" if metrics.diverged_epoch is not None else "completed")
    summary = build_summary(
        status, overrides, cfg.seed, p.threads, metrics.history, metrics.train_seconds,
        metrics.metric_seconds, wall_time=time.perf_counter() - started,
        diverged_epoch=metrics.diverged_epoch, steps=p.trainer.global_step, run_dir=str(run_dir),
        resumed_from=str(p.resume_from) if p.resume_from else None, choices=p.choices,
        **(interruption_summary(interrupted, run_dir, overrides) if interrupted else {}),
    )
    write_json_atomic(run_dir / "summary.json", summary)
    log.info("%s: %s", status, run_dir / "summary.json")
    if interrupted:
        log.warning("%s; continue with: %s", interrupted, summary["resume_with"])
    return summary
