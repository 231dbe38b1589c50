"""A run, from its config to its directory: `assemble` checks every value and builds every
part (data, model, module, callbacks, logger, trainer) for one model or a stack of several;
`run_jobs` trains it and writes each run directory."""

import copy
import logging
import time
import warnings
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import pytorch_lightning as pl
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.loggers import TensorBoardLogger
from pytorch_lightning.utilities import rank_zero_only
from pytorch_lightning.utilities.exceptions import MisconfigurationException
from torch.distributed import DistStoreError

from wdbench.config.build import build, set_threads
from wdbench.config.messages import first_line
from wdbench.config.validate import check_optimizer, check_run_settings, explain_trainer_error
from wdbench.errors import ConfigError, WdbenchError
from wdbench.internals import strategy_timeout
from wdbench.metrics.callback import EpochMetrics
from wdbench.models import check_batch_norm_rows
from wdbench.outputs.files import RunDir
from wdbench.outputs.writer import RunWriter
from wdbench.training.ddp import ddp_strategy, launched_rank
from wdbench.training.interrupt import RunInterrupted, StopOnSignal, raise_on_signal
from wdbench.training.job import Job
from wdbench.training.module import LOSSES, RegularizedModule
from wdbench.training.resume import checkpoint_to_resume

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
    # On a machine with SLURM installed, Lightning hints at srun on every run, sweep jobs too.
    warnings.filterwarnings("ignore", message=".*`srun` command is available.*")


class EventsLogger(TensorBoardLogger):
    """Lightning's TensorBoard logger without its hparams.yaml: wdbench logs no hyperparameters
    through it, so the file held just `{}`. The hyperparameters are in the HParams summaries
    (wdbench/outputs/hparams.py); Hydra keeps the config in .hydra/."""

    @rank_zero_only
    def save(self) -> None:
        self.experiment.flush()


def tensorboard_logger(run_dir: Path) -> TensorBoardLogger:
    # name="" and version="" put the event files straight into the run directory, so
    # `tensorboard --logdir runs/` names each run by its directory. Under DDP rank 0 writes them.
    if launched_rank() > 0:
        return False
    return EventsLogger(str(run_dir), name="", version="", default_hp_metric=False)


def make_trainer(trainer_cfg: DictConfig, logger, callbacks: list, root_dir: Path,
                 ddp_timeout: float = 120) -> pl.Trainer:
    return pl.Trainer(
        **ddp_strategy(OmegaConf.to_container(trainer_cfg, resolve=True), ddp_timeout),
        logger=logger,
        callbacks=callbacks,
        enable_checkpointing=False,
        default_root_dir=str(root_dir),
    )


@dataclass(frozen=True)
class Stacking:
    """What a stack of M models builds in place of one: the regulariser holding each member's
    values (from the jobs), the batched model (from M plain ones) and its module class."""

    regularizer: Callable[[list[Job]], object]
    model: Callable[[list], object]
    module: type


@dataclass
class Assembled:
    """A run ready to train: every value checked, every part built."""

    data: object
    module: RegularizedModule
    metrics: EpochMetrics
    writer: RunWriter
    trainer: pl.Trainer
    threads: int
    resume_from: Path | None


def assemble(jobs: list[Job], stacking: Stacking | None = None) -> Assembled:
    """Validate and build everything, cheapest checks first: a bad value stops the run here,
    before the data is read and long before training. With `stacking`, the jobs (equal but
    for their kind's per-member hyperparameters) train as one stacked model; else one job."""
    cfg, stacked = jobs[0].cfg, stacking is not None
    threads = set_threads(cfg.threads)
    check_run_settings(cfg)
    if stacked and cfg.get("resume"):
        raise ConfigError("resume", cfg.resume, "null with sweep.vectorize=true")
    configs = [OmegaConf.to_container(job.cfg, resolve=True) for job in jobs]
    resume_from = checkpoint_to_resume(cfg.get("resume"), configs[0])
    regularizer = stacking.regularizer(jobs) if stacked else build(cfg.regularizer)
    make_optimizer = build(cfg.optimizer)
    check_optimizer(cfg.optimizer, make_optimizer)
    regularizer.schedule_peak(float(cfg.optimizer.lr))
    pl.seed_everything(cfg.seed, verbose=False)

    data = build(cfg.data, seed=cfg.seed)
    model = build(cfg.model, in_features=data.num_features, out_features=data.num_outputs)
    check_batch_norm_rows(model, len(data.splits.train_x), data.batch_size)
    make_scheduler = build(cfg.scheduler) if cfg.get("scheduler") else None  # none.yaml is empty
    loss_fn = LOSSES[data.task]
    if stacked:  # every member initialised exactly as its ordinary run would be
        model = stacking.model([model] + [copy.deepcopy(model) for _ in jobs[1:]])
    module = (stacking.module if stacked else RegularizedModule)(
        model, regularizer, make_optimizer, loss_fn, configs[0], make_scheduler=make_scheduler)
    module.angles.every_n_steps = cfg.metrics.angle_every_n_steps
    module.gradients.enabled = cfg.metrics.get("grad_norms", False)
    loggers = [tensorboard_logger(job.run_dir) for job in jobs] if stacked else None
    metrics = EpochMetrics(data, regularizer, loss_fn, cfg.metrics.every_n_epochs,
                           cfg.metrics.eval_rows, loggers=loggers,
                           span_rows=cfg.metrics.get("span_rows"))
    writer = RunWriter(metrics, jobs, configs, [job.choices for job in jobs], loggers)
    callbacks = [metrics, writer]
    if not stacked:  # a signal ends one model's run with a checkpoint that resumes it
        callbacks.append(StopOnSignal(RunDir(jobs[0].run_dir).checkpoint, jobs[0].overrides))
    try:
        trainer = make_trainer(cfg.trainer, False if stacked else tensorboard_logger(
            jobs[0].run_dir), callbacks, jobs[0].run_dir, cfg.get("ddp_timeout", 120))
    except (TypeError, ValueError, MisconfigurationException) as err:
        raise explain_trainer_error(err, cfg.trainer) from None
    return Assembled(data, module, metrics, writer, trainer, threads, resume_from)


def prepare(cfg: DictConfig, run_dir: Path, overrides: list[str], choices: dict | None = None
            ) -> Assembled:
    """One model's run, assembled."""
    return assemble([Job(cfg, Path(run_dir), overrides, choices or {})])


def fit(p: Assembled) -> RunInterrupted | None:
    """Train; a signal ends training at a batch boundary with a checkpoint (returned)."""
    try:
        p.trainer.fit(p.module, datamodule=p.data, ckpt_path=p.resume_from)
    except DistStoreError as err:  # the rendezvous: a peer that never came, or no node 0
        raise rendezvous_failed(err, p.trainer) from None
    except RunInterrupted as stop:
        if stop.checkpoint is None:  # before the first batch: nothing to save or resume
            raise
        return stop
    return None


def rendezvous_failed(err: Exception, trainer: pl.Trainer) -> WdbenchError:
    env = trainer.strategy.cluster_environment
    where = f"{env.main_address}:{env.main_port}" if env else "?"
    timeout = strategy_timeout(trainer.strategy)
    return WdbenchError(
        f"the DDP rendezvous at {where} did not complete within ddp_timeout={timeout:g} s "
        f"({trainer.world_size} ranks, {first_line(str(err))}): start every node, with the "
        "same MASTER_ADDR and MASTER_PORT, trainer.num_nodes and trainer.devices")


def run_jobs(jobs: list[Job], stacking: Stacking | None = None) -> list[dict]:
    """Train, evaluate, and write each job's summary.json, history.csv, events, curves.png and
    checkpoint. A job's `choices`: each config group's option (Hydra's runtime.choices, or
    config.compose_run's)."""
    started = time.perf_counter()
    quiet_lightning()
    stacked = stacking is not None
    # A stack stops only by finishing: one signal handler cannot checkpoint M runs.
    with nullcontext() if stacked else raise_on_signal():
        p = assemble(jobs, stacking)
        if stacked:
            log.info("training %d runs as one stacked model: %s", len(jobs),
                     ", ".join(Path(job.run_dir).name for job in jobs))
        interrupted = fit(p)
    return p.writer.write_results(p.trainer, p.module, p.threads, time.perf_counter() - started,
                                  p.resume_from, interrupted)


def run(cfg: DictConfig, run_dir: Path, overrides: list[str], choices: dict | None = None
        ) -> dict:
    """One model's run: its summary."""
    return run_jobs([Job(cfg, Path(run_dir), overrides, choices or {})])[0]
