"""One run: instantiate everything from the config here, pass ready objects down."""

import csv
import logging
import os
import time
import warnings
from pathlib import Path

import pytorch_lightning as pl
import torch
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.loggers import TensorBoardLogger

from wdbench.callbacks import EpochMetrics
from wdbench.errors import ConfigError, WdbenchError
from wdbench.module import LOSSES, RegularizedModule
from wdbench.summary import build_summary, write_json_atomic

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
        if isinstance(err.__cause__, WdbenchError):
            raise err.__cause__ from None
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


def run(cfg: DictConfig, run_dir: Path, overrides: list[str]) -> dict:
    """Train, evaluate, and write summary.json, history.csv, events and the checkpoint."""
    started = time.perf_counter()
    quiet_lightning()
    threads = set_threads(cfg.threads)
    pl.seed_everything(cfg.seed, verbose=False)

    data = build(cfg.data, seed=cfg.seed)
    model = build(cfg.model, in_features=data.num_features, out_features=data.num_outputs)
    regularizer = build(cfg.regularizer)
    make_optimizer = build(cfg.optimizer)
    loss_fn = LOSSES[data.task]
    config = OmegaConf.to_container(cfg, resolve=True)
    module = RegularizedModule(model, regularizer, make_optimizer, loss_fn, config)
    metrics = EpochMetrics(data, regularizer, loss_fn, cfg.metrics.every_n_epochs)
    trainer = make_trainer(cfg.trainer, run_dir, [metrics])

    trainer.fit(module, datamodule=data)

    trainer.save_checkpoint(run_dir / "checkpoints" / "last.ckpt")
    write_history(run_dir / "history.csv", metrics.history)
    status = "diverged" if metrics.diverged_epoch is not None else "completed"
    summary = build_summary(
        status, overrides, cfg.seed, threads, metrics.history, metrics.train_seconds,
        metrics.metric_seconds, wall_time=time.perf_counter() - started,
        diverged_epoch=metrics.diverged_epoch, run_dir=str(run_dir),
    )
    write_json_atomic(run_dir / "summary.json", summary)
    log.info("%s: %s", status, run_dir / "summary.json")
    return summary
