"""Per-epoch measurement: one evaluation pass per split, the weights, a progress line, and
the divergence guard. Runs once before training (epoch 0) and after every epoch."""

import logging
import math
import time

import pytorch_lightning as pl
import torch
from tensorboard.compat.proto.summary_pb2 import Summary

from wdbench.errors import ConfigError
from wdbench.metrics import evaluate, weight_metrics

log = logging.getLogger("wdbench")
PROGRESS_LINES = 20  # about this many epoch lines per run, plus the first and the last


class EpochMetrics(pl.Callback):
    def __init__(self, data, regularizer, loss_fn, every_n_epochs: int = 1):
        if not isinstance(every_n_epochs, int) or isinstance(every_n_epochs, bool) \
                or every_n_epochs < 1:
            raise ConfigError("metrics.every_n_epochs", every_n_epochs, "a positive integer")
        self.every_n_epochs = every_n_epochs
        self.data = data
        self.regularizer = regularizer
        self.loss_fn = loss_fn
        self.history: list[dict] = []
        self.train_seconds: list[float] = []
        self.metric_seconds: list[float] = []
        self.diverged_epoch: int | None = None
        self._epoch_started = 0.0

    def on_train_start(self, trainer, module) -> None:
        self.record(trainer, module, epoch=0, extra={})

    def on_train_epoch_start(self, trainer, module) -> None:
        self._epoch_started = time.perf_counter()

    def on_train_epoch_end(self, trainer, module) -> None:
        if module.device.type == "cuda":
            torch.cuda.synchronize()
        self.train_seconds.append(time.perf_counter() - self._epoch_started)
        epoch = trainer.current_epoch + 1
        # metrics.every_n_epochs: on a small training set the evaluation pass (up to 25,000 rows)
        # costs more than the epoch's training. The last epoch is always measured.
        if epoch % self.every_n_epochs == 0 or epoch == trainer.max_epochs:
            self.record(trainer, module, epoch, self.training_means(trainer, module))

    def on_train_end(self, trainer, module) -> None:
        """A run stopped early (e.g. by trainer.max_steps) still ends on a measured epoch."""
        epoch = len(self.train_seconds)
        if self.diverged_epoch is None and self.history and self.history[-1]["epoch"] < epoch:
            self.record(trainer, module, epoch, self.training_means(trainer, module))

    def training_means(self, trainer, module) -> dict:
        lr = trainer.optimizers[0].param_groups[0]["lr"]
        extra = {**module.epoch_means(), "optim/lr": lr}
        decay = self.regularizer.decay_per_step(lr)
        if decay is not None:
            extra["optim/decay_per_step"] = decay
        return extra

    def record(self, trainer, module, epoch: int, extra: dict) -> None:
        started = time.perf_counter()
        classification = self.data.task == "classification"
        measured = dict(extra)
        for split, (x, y) in self.data.eval_sets().items():
            loss, acc = evaluate(module.model, x, y, self.loss_fn, classification)
            measured[f"loss/{split}"] = loss
            if acc is not None:
                measured[f"acc/{split}"] = acc
        measured.update(weight_metrics(self.regularizer.named_weights(module.model)))
        values = to_floats(measured)
        add_gaps(values)
        if trainer.logger is not None:
            log_scalars(trainer.logger, values, epoch)
        self.metric_seconds.append(time.perf_counter() - started)
        self.history.append({"epoch": epoch, **values})
        if not all(math.isfinite(v) for v in values.values()):
            self.diverged_epoch = epoch
            trainer.should_stop = True
            log.warning("diverged at epoch %d: a loss or weight is NaN or infinite; stopping", epoch)
        elif should_print(epoch, trainer.max_epochs):
            log.info(progress_line(epoch, trainer.max_epochs, values, self.train_seconds))


def log_scalars(logger, values: dict[str, float], step: int) -> None:
    """All of an epoch's scalars as one TensorBoard event. Lightning's log_metrics writes an
    event per scalar: 0.6 ms an epoch for a dozen against 0.1 ms, which is most of the
    per-epoch metrics cost of a small run such as the synthetic demo."""
    file_writer = getattr(getattr(logger, "experiment", None), "_get_file_writer", None)
    if file_writer is None:  # not a TensorBoard logger
        logger.log_metrics(values, step=step)
        return
    scalars = [Summary.Value(tag=tag, simple_value=value) for tag, value in values.items()]
    file_writer().add_summary(Summary(value=scalars), step)


def to_floats(measured: dict) -> dict[str, float]:
    """One host sync for all device tensors, however many metrics there are."""
    names = [k for k, v in measured.items() if isinstance(v, torch.Tensor)]
    floats = torch.stack([measured[k].float().reshape(()) for k in names]).tolist() if names else []
    values = {k: float(v) for k, v in measured.items() if not isinstance(v, torch.Tensor)}
    values.update(zip(names, floats))
    return values


def add_gaps(values: dict[str, float]) -> None:
    """Generalisation gap: held-out loss minus train loss; train accuracy minus held-out."""
    for held_out, suffix in (("test", ""), ("val", "_val")):
        if f"loss/{held_out}" in values:
            values[f"gap/loss{suffix}"] = values[f"loss/{held_out}"] - values["loss/train"]
        if f"acc/{held_out}" in values:
            values[f"gap/acc{suffix}"] = values["acc/train"] - values[f"acc/{held_out}"]


def should_print(epoch: int, max_epochs: int) -> bool:
    every = max(1, (max_epochs or 1) // PROGRESS_LINES)
    return epoch <= 1 or epoch == max_epochs or epoch % every == 0


def progress_line(epoch: int, max_epochs: int, values: dict, train_seconds: list) -> str:
    parts = [f"epoch {epoch:>3}/{max_epochs}"]
    for key in ("loss/train", "loss/val", "loss/test", "acc/train", "acc/test", "weights/l2"):
        if key in values:
            parts.append(f"{key.replace('/', ' ')} {values[key]:.4g}")
    if train_seconds:
        parts.append(f"{train_seconds[-1]:.2f}s/epoch")
    return "  ".join(parts)
