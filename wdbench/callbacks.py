"""Per-epoch measurement: one evaluation pass per split, the weights (norms every epoch,
histograms at about 20 epochs), a progress line, and the divergence guard. Runs once before
training (epoch 0) and after every epoch."""

import logging
import math
import time

import pytorch_lightning as pl
import torch
from tensorboard.compat.proto.summary_pb2 import Summary

from wdbench.histograms import histogram_epochs, histogram_stats, write_histogram
from wdbench.metrics import bias_metrics, evaluate, unregularized_biases, weight_metrics
from wdbench.rotation import rotation_metrics

log = logging.getLogger("wdbench")
PROGRESS_LINES = 20  # about this many epoch lines per run, plus the first and the last
CHECK_EVERY = 10  # steps between divergence checks within an epoch (CPU)
GPU_CHECK_EVERY = 50  # on a GPU each check is a host sync: fewer of them


def is_last_epoch(trainer, epoch: int) -> bool:
    """Training ends after this epoch (max_epochs, max_steps, or a stop): its measurement is
    the run's result, so it is always made, on every row."""
    max_steps = trainer.max_steps if trainer.max_steps is not None else -1
    return (epoch == trainer.max_epochs or trainer.should_stop
            or 0 <= max_steps <= trainer.global_step)


class MeasuredEpochs(pl.Callback):
    """What an ordinary run's metrics and a stacked grid's share: each epoch's training clock
    and lr, and when to measure: every metrics.every_n_epochs epochs on the first
    metrics.eval_rows rows of each split, and always after the last epoch, on every row
    (on a small training set the evaluation pass costs more than the epoch's training).
    Subclasses say how to `record`."""

    def __init__(self, regularizer, every_n_epochs: int = 1, eval_rows: int | None = None):
        self.regularizer = regularizer
        self.every_n_epochs, self.eval_rows = every_n_epochs, eval_rows
        self.train_seconds: list[float] = []
        self.metric_seconds: list[float] = []
        self._epoch_started = 0.0
        self._epoch_lr = 0.0

    def on_train_epoch_start(self, trainer, module) -> None:
        self._epoch_started = time.perf_counter()
        # The lr this epoch trains with: an epoch scheduler steps before on_train_epoch_end.
        self._epoch_lr = trainer.optimizers[0].param_groups[0]["lr"]

    def on_train_epoch_end(self, trainer, module) -> None:
        if module.device.type == "cuda":
            torch.cuda.synchronize()
        self.train_seconds.append(time.perf_counter() - self._epoch_started)
        epoch = trainer.current_epoch + 1
        last = is_last_epoch(trainer, epoch)
        if epoch % self.every_n_epochs == 0 or last:
            self.record(trainer, module, epoch, self.training_means(module),
                        rows=None if last else self.eval_rows)

    def training_means(self, module) -> dict:
        return training_means(module, self.regularizer, self._epoch_lr)

    def record(self, trainer, module, epoch: int, extra: dict, rows: int | None) -> None:
        raise NotImplementedError


class EpochMetrics(MeasuredEpochs):
    def __init__(self, data, regularizer, loss_fn, every_n_epochs: int = 1,
                 eval_rows: int | None = None):
        super().__init__(regularizer, every_n_epochs, eval_rows)
        self.data = data
        self.loss_fn = loss_fn
        self.history: list[dict] = []
        self.diverged_epoch: int | None = None
        self.histogram_steps: list[int] = []
        self.resumed = False

    def on_train_start(self, trainer, module) -> None:
        if self.resumed:  # the curves so far came with the checkpoint: log them here too
            for row in self.history:
                if trainer.logger is not None:
                    log_scalars(trainer.logger, {k: v for k, v in row.items() if k != "epoch"},
                                row["epoch"])
            return
        self.record(trainer, module, epoch=0, extra={}, rows=self.eval_rows)

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:
        """Stop within the epoch once the training loss is NaN or infinite. The epoch sums
        catch a NaN from any step, so checking every few steps is enough: a check costs about
        14 us on the CPU (1-3% of a small model's step), and on a GPU it waits for the device."""
        every = CHECK_EVERY if module.device.type == "cpu" else GPU_CHECK_EVERY
        if (batch_idx + 1) % every or self.diverged_epoch is not None:
            return
        if not torch.isfinite(module.data_loss_sum + module.penalty_sum).item():
            self.diverged_epoch = trainer.current_epoch + 1
            trainer.should_stop = True
            log.warning("diverged in epoch %d (batch %d): the training loss is NaN or "
                        "infinite; stopping", self.diverged_epoch, batch_idx + 1)

    def state_dict(self) -> dict:
        """Saved in checkpoints, so a resumed run's history and summary are whole."""
        return {"history": self.history, "train_seconds": self.train_seconds,
                "metric_seconds": self.metric_seconds, "diverged_epoch": self.diverged_epoch,
                "histogram_steps": self.histogram_steps, "epoch_lr": self._epoch_lr,
                "epoch_seconds_so_far": time.perf_counter() - self._epoch_started}

    def load_state_dict(self, state_dict: dict) -> None:
        self.history = list(state_dict["history"])
        self.train_seconds = list(state_dict["train_seconds"])
        self.metric_seconds = list(state_dict["metric_seconds"])
        self.diverged_epoch = state_dict["diverged_epoch"]
        self.histogram_steps = list(state_dict.get("histogram_steps", []))
        self._epoch_lr = state_dict.get("epoch_lr", 0.0)  # a mid-epoch resume skips epoch start
        # A mid-epoch resume skips on_train_epoch_start: count the part already trained.
        self._epoch_started = time.perf_counter() - state_dict["epoch_seconds_so_far"]
        self.resumed = True

    def on_train_end(self, trainer, module) -> None:
        """A run stopped early (e.g. by trainer.max_steps) still ends on a measured epoch, and
        the last epoch always gets histograms."""
        epoch = len(self.train_seconds)
        if self.diverged_epoch is None and self.history and self.history[-1]["epoch"] < epoch:
            self.record(trainer, module, epoch, self.training_means(module))
        last = self.history[-1]["epoch"] if self.history else None
        if last is not None and last not in self.histogram_steps:
            _, stats = to_host({}, self.histograms(module.model))
            self.write_histograms(trainer, stats, last)

    def histograms(self, model) -> dict[str, torch.Tensor]:
        return {f"weights/{name}": histogram_stats(p)
                for name, p in self.regularizer.named_weights(model)}

    def write_histograms(self, trainer, stats: dict[str, list], epoch: int) -> None:
        if trainer.logger is not None and stats:
            for tag, numbers in stats.items():
                write_histogram(trainer.logger.experiment, tag, numbers, epoch)
            self.histogram_steps.append(epoch)

    def record(self, trainer, module, epoch: int, extra: dict, rows: int | None = None) -> None:
        """Evaluate `rows` rows of each split (None: all), measure the weights, log, and
        stop a run whose numbers are no longer finite."""
        started = time.perf_counter()
        classification = self.data.task == "classification"
        measured = dict(extra)
        for split, (x, y) in self.data.eval_sets(rows).items():
            loss, acc = evaluate(module.model, x, y, self.loss_fn, classification)
            measured[f"loss/{split}"] = loss
            if acc is not None:
                measured[f"acc/{split}"] = acc
        weights = self.regularizer.named_weights(module.model)
        measured.update(weight_metrics(weights))
        measured.update(bias_metrics(unregularized_biases(module.model, [p for _, p in weights])))
        due = epoch in histogram_epochs(trainer.max_epochs)
        values, stats = to_host(measured, self.histograms(module.model) if due else {})
        add_gaps(values)
        if trainer.logger is not None:
            log_scalars(trainer.logger, values, epoch)
        self.write_histograms(trainer, stats, epoch)
        self.metric_seconds.append(time.perf_counter() - started)
        self.history.append({"epoch": epoch, **values})
        if not all(math.isfinite(v) for v in values.values()):
            trainer.should_stop = True
            if self.diverged_epoch is None:  # not already caught within the epoch
                self.diverged_epoch = epoch
                log.warning("diverged at epoch %d: a loss or weight is NaN or infinite; "
                            "stopping", epoch)
        elif should_print(epoch, trainer.max_epochs):
            log.info(progress_line(epoch, trainer.max_epochs, values, self.train_seconds))


def to_host(scalars: dict, vectors: dict[str, torch.Tensor]) -> tuple[dict, dict]:
    """One host sync for all device tensors, however many metrics and histograms there are:
    scalars come back as floats, vectors as lists of floats."""
    tensors = {k: v for k, v in scalars.items() if isinstance(v, torch.Tensor)}
    parts = [t.detach().float().reshape(-1) for t in (*tensors.values(), *vectors.values())]
    flat = torch.cat(parts).tolist() if parts else []
    values = {k: float(v) for k, v in scalars.items() if k not in tensors}
    values.update(zip(tensors, flat))
    offset, lists = len(tensors), {}
    for name, vector in vectors.items():
        lists[name] = flat[offset : offset + vector.numel()]
        offset += vector.numel()
    return values, lists


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


def training_means(module, regularizer, lr: float) -> dict:
    """The epoch's mean minibatch data loss and penalty, its lr and the decay per step, and
    each regularised matrix's effective lr and angle per step (rotation.py)."""
    extra = {**module.epoch_means(), "optim/lr": lr}
    extra.update(rotation_metrics(module, regularizer, lr))
    decay = regularizer.decay_per_step(lr)
    if decay is not None:
        extra["optim/decay_per_step"] = decay
    return extra


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
