"""Per-epoch measurement, for one model or a stack of M: one evaluation pass per split, the
weights (norms every epoch, histograms at about 20 epochs), a progress line, and each
member's record of divergence (what to do about it is the module's guard). Runs once before
training (epoch 0) and after every epoch."""

import logging
import math
import time

import pytorch_lightning as pl
import torch
from tensorboard.compat.proto.summary_pb2 import Summary

from wdbench.internals import add_summary
from wdbench.metrics.catalog import progress_tags, tag_of
from wdbench.metrics.gradients import gradient_metrics
from wdbench.metrics.histograms import histogram_epochs, histogram_stats, write_histogram
from wdbench.metrics.measures import MEASURERS, evaluate, member_parameters
from wdbench.metrics.rotation import rotation_metrics
from wdbench.metrics.span import SpanMetrics
from wdbench.training.ddp import mean_over_ranks

log = logging.getLogger("wdbench")
PROGRESS_LINES = 20  # about this many epoch lines per run, plus the first and the last


def is_last_epoch(trainer, epoch: int) -> bool:
    """Training ends after this epoch (max_epochs, max_steps, or a stop): its measurement is
    the run's result, so it is always made, on every row."""
    max_steps = trainer.max_steps if trainer.max_steps is not None else -1
    return (epoch == trainer.max_epochs or trainer.should_stop
            or 0 <= max_steps <= trainer.global_step)


class EpochMetrics(pl.Callback):
    """Each epoch's training clock and lr, and the measurement: every metrics.every_n_epochs
    epochs on the first metrics.eval_rows rows of each split, and always after the last epoch,
    on every row (on a small training set the evaluation pass costs more than the epoch's
    training). `loggers`: one per member of a stack; None: the trainer's own, for one model."""

    def __init__(self, data, regularizer, loss_fn, every_n_epochs: int = 1,
                 eval_rows: int | None = None, loggers: list | None = None,
                 span_rows: int | None = None):
        self.data, self.regularizer, self.loss_fn = data, regularizer, loss_fn
        self.every_n_epochs, self.eval_rows = every_n_epochs, eval_rows
        self.loggers = loggers
        members = len(loggers) if loggers else 1
        self.histories: list[list[dict]] = [[] for _ in range(members)]
        self.diverged_epochs: list[int | None] = [None] * members
        self.histogram_steps: list[list[int]] = [[] for _ in range(members)]
        self.train_seconds: list[float] = []
        self.metric_seconds: list[float] = []
        self._epoch_started = 0.0
        self._epoch_lr = 0.0
        self.resumed = False
        self.span_metrics = SpanMetrics(span_rows)  # first layer in and out of the data's span

    @property
    def history(self) -> list[dict]:
        return self.histories[0]

    @property
    def diverged_epoch(self) -> int | None:
        return self.diverged_epochs[0]

    def logger(self, trainer, member: int):
        return self.loggers[member] if self.loggers else trainer.logger

    def on_train_start(self, trainer, module) -> None:
        if self.resumed:  # the curves so far came with the checkpoint: log them here too
            for row in self.history:
                if trainer.logger is not None:
                    log_scalars(trainer.logger, {k: v for k, v in row.items() if k != "epoch"},
                                row["epoch"])
            return
        self.record(trainer, module, epoch=0, extra={}, rows=self.eval_rows)

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

    def state_dict(self) -> dict:
        """Saved in checkpoints (of one model), so a resumed run's history and summary are
        whole."""
        return {"history": self.history, "train_seconds": self.train_seconds,
                "metric_seconds": self.metric_seconds, "diverged_epoch": self.diverged_epoch,
                "histogram_steps": self.histogram_steps[0], "epoch_lr": self._epoch_lr,
                "epoch_seconds_so_far": time.perf_counter() - self._epoch_started}

    def load_state_dict(self, state_dict: dict) -> None:
        self.histories = [list(state_dict["history"])]
        self.train_seconds = list(state_dict["train_seconds"])
        self.metric_seconds = list(state_dict["metric_seconds"])
        self.diverged_epochs = [state_dict["diverged_epoch"]]
        self.histogram_steps = [list(state_dict.get("histogram_steps", []))]
        self._epoch_lr = state_dict.get("epoch_lr", 0.0)  # a mid-epoch resume skips epoch start
        # A mid-epoch resume skips on_train_epoch_start: count the part already trained.
        self._epoch_started = time.perf_counter() - state_dict["epoch_seconds_so_far"]
        self.resumed = True

    def on_train_end(self, trainer, module) -> None:
        """A run stopped early (e.g. by trainer.max_steps) still ends on a measured epoch, and
        each member's last epoch always gets histograms."""
        epoch = len(self.train_seconds)
        if any(h and h[-1]["epoch"] < epoch and d is None
               for h, d in zip(self.histories, self.diverged_epochs)):
            self.record(trainer, module, epoch, self.training_means(module))
        parts = member_parameters(module.model, self.regularizer, module.members)
        for m, (history, (weights, _)) in enumerate(zip(self.histories, parts)):
            last = history[-1]["epoch"] if history else None
            if last is not None and last not in self.histogram_steps[m]:
                _, stats = to_host({}, histograms(weights))
                self.write_histograms(trainer, m, stats, last)

    def write_histograms(self, trainer, member: int, stats: dict[str, list], epoch: int) -> None:
        logger = self.logger(trainer, member)
        if logger is not None and stats:
            for tag, numbers in stats.items():
                write_histogram(logger.experiment, tag, numbers, epoch)
            self.histogram_steps[member].append(epoch)

    def record(self, trainer, module, epoch: int, extra: dict, rows: int | None = None) -> None:
        """Evaluate `rows` rows of each split (None: all), measure each live member's weights,
        log, and hand the members whose numbers are no longer finite to the module's guard."""
        started = time.perf_counter()
        classification = self.data.task == "classification"
        measured = dict(extra)
        for split, (x, y) in self.data.eval_sets(rows).items():
            loss, acc = evaluate(module.model, x, y, self.loss_fn, classification)
            measured[f"loss/{split}"] = loss
            if acc is not None:
                measured[f"acc/{split}"] = acc
        # The first layer's parts in and out of the span of the training inputs (one per
        # member of a stack), from a basis built once.
        measured.update(self.span_metrics(self.data, module.model,
                                          self.regularizer.named_weights(module.model)))
        due = epoch in histogram_epochs(trainer.max_epochs)
        scalars, vectors = {}, {}
        parts = member_parameters(module.model, self.regularizer, module.members)
        # A diverged member is frozen: its curves end where it diverged.
        live = [m for m, diverged in enumerate(self.diverged_epochs) if diverged is None]
        for m in live:
            weights, biases = parts[m]
            scalars.update({(m, k): member_value(v, m) for k, v in measured.items()})
            for measure in MEASURERS:
                scalars.update({(m, k): v for k, v in measure(weights, biases).items()})
            if due:
                vectors.update({(m, tag): v for tag, v in histograms(weights).items()})
        flat, stats = to_host(scalars, vectors)  # one host sync for every member
        diverged = []
        for m in live:
            values = {k: v for (member, k), v in flat.items() if member == m}
            add_gaps(values)
            logger = self.logger(trainer, m)
            if logger is not None:
                log_scalars(logger, values, epoch)
            self.write_histograms(trainer, m, {k: v for (member, k), v in stats.items()
                                               if member == m}, epoch)
            self.histories[m].append({"epoch": epoch, **values})
            if not all(math.isfinite(v) for v in values.values()):
                self.diverged_epochs[m] = epoch
                diverged.append(m)
        self.metric_seconds.append(time.perf_counter() - started)
        if diverged:
            module.diverged(diverged, epoch)
        elif should_print(epoch, trainer.max_epochs):
            log.info(self.epoch_line(epoch, trainer.max_epochs))

    def epoch_line(self, epoch: int, max_epochs: int) -> str:
        """The progress line of an epoch: one model's metrics, or each live member's score."""
        if len(self.histories) == 1:
            return single_model_line(epoch, max_epochs, self.history[-1], self.train_seconds)
        key = tag_of("test_acc" if self.data.task == "classification" else "test_loss")
        live = [h[-1][key] for h, d in zip(self.histories, self.diverged_epochs) if d is None]
        seconds = f"  {self.train_seconds[-1]:.2f}s/epoch" if self.train_seconds else ""
        shown = " ".join(f"{v:.4g}" for v in live)
        return f"epoch {epoch:>3}/{max_epochs}  {len(live)} members  {key} {shown}{seconds}"


def member_value(value, member: int):
    """A member's value of a measurement: one per member (a vector), or shared (a scalar)."""
    return value[member] if isinstance(value, torch.Tensor) and value.ndim else value


def histograms(named_weights) -> dict[str, torch.Tensor]:
    return {f"weights/{name}": histogram_stats(p) for name, p in named_weights}


def to_host(scalars: dict, vectors: dict) -> tuple[dict, dict]:
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
    """All of an epoch's scalars as one TensorBoard event; Lightning's log_metrics writes an
    event per scalar, most of the per-epoch cost of a small run's metrics."""
    scalars = [Summary.Value(tag=tag, simple_value=value) for tag, value in values.items()]
    if not add_summary(getattr(logger, "experiment", None), Summary(value=scalars), step):
        logger.log_metrics(values, step=step)  # not a TensorBoard logger


def training_means(module, regularizer, lr: float) -> dict:
    """The epoch's mean minibatch data loss and penalty, its lr and the decay per step, and
    each regularised matrix's effective lr and angle per step (rotation.py) and, if
    measured, its gradient norm (gradients.py)."""
    extra = {**mean_over_ranks(module.trainer, module.epoch_means()), "optim/lr": lr}
    extra.update(rotation_metrics(module, regularizer, lr))
    extra.update(gradient_metrics(module, regularizer, lr))
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


def single_model_line(epoch: int, max_epochs: int, values: dict, train_seconds: list) -> str:
    """One model's epoch: the progress metrics of the catalogue, and the epoch's time."""
    parts = [f"epoch {epoch:>3}/{max_epochs}"]
    for tag in progress_tags():
        if tag in values:
            parts.append(f"{tag.replace('/', ' ')} {values[tag]:.4g}")
    if train_seconds:
        parts.append(f"{train_seconds[-1]:.2f}s/epoch")
    return "  ".join(parts)
