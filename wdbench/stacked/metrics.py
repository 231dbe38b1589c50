"""Per-epoch measurement of a stacked grid, reported per member exactly as EpochMetrics
reports an ordinary run: one batched evaluation pass for all members, then each member's
weights (slices of the stacked tensors), its own TensorBoard run, history and divergence."""

import logging
import math
import time

import torch

from wdbench.callbacks import MeasuredEpochs, add_gaps, log_scalars, to_host
from wdbench.histograms import histogram_epochs, histogram_stats, write_histogram
from wdbench.metrics import EVAL_CHUNK, bias_metrics, weight_metrics
from wdbench.stacked.model import member_losses

log = logging.getLogger("wdbench")


@torch.no_grad()
def evaluate_members(model, x: torch.Tensor, y: torch.Tensor, task: str):
    """Each member's mean data loss (and accuracy), shape (M,), in eval mode."""
    was_training = model.training
    model.eval()
    loss_sum = torch.zeros(model.members, device=x.device)
    correct = torch.zeros(model.members, device=x.device)
    for start in range(0, len(x), EVAL_CHUNK):
        xb, yb = x[start : start + EVAL_CHUNK], y[start : start + EVAL_CHUNK]
        output = model(xb)
        loss_sum += member_losses(task, output, yb) * len(xb)
        if task == "classification":
            correct += (output.argmax(dim=2) == yb).sum(dim=1)
    model.train(was_training)
    count = max(len(x), 1)
    return loss_sum / count, (correct / count if task == "classification" else None)


def member_slices(model, regularizer, member: int):
    """(regularised weights, unregularised biases) of one member, as views."""
    weights = regularizer.named_weights(model)
    chosen = {id(p) for _, p in weights}
    biases = [(n, p[member]) for n, p in model.named_parameters()
              if p.ndim <= 2 and id(p) not in chosen]
    return [(n, p[member]) for n, p in weights], biases


class StackedMetrics(MeasuredEpochs):
    def __init__(self, data, regularizer, loggers: list, every_n_epochs: int = 1,
                 eval_rows: int | None = None, span_rows: int | None = None):
        super().__init__(regularizer, every_n_epochs, eval_rows, span_rows)
        self.data, self.loggers = data, loggers
        members = len(loggers)
        self.histories: list[list[dict]] = [[] for _ in range(members)]
        self.diverged_epochs: list[int | None] = [None] * members

    def on_train_start(self, trainer, module) -> None:
        self.record(trainer, module, 0, {}, rows=self.eval_rows)

    def record(self, trainer, module, epoch: int, extra: dict, rows: int | None) -> None:
        started = time.perf_counter()
        model, members = module.model, len(self.loggers)
        measured = {k: v if isinstance(v, torch.Tensor) and v.ndim else
                    torch.as_tensor(v, dtype=torch.float32, device=module.device).expand(members)
                    for k, v in extra.items()}
        for split, (x, y) in self.data.eval_sets(rows).items():
            loss, acc = evaluate_members(model, x, y, self.data.task)
            measured[f"loss/{split}"] = loss
            if acc is not None:
                measured[f"acc/{split}"] = acc
        # Each member's span / null parts, shape (M,), in one batched product.
        measured.update(self.span_metrics(self.data, model, self.regularizer.named_weights(model)))
        histograms_due = epoch in histogram_epochs(trainer.max_epochs)
        scalars, vectors = {}, {}
        for m in range(members):
            weights, biases = member_slices(model, self.regularizer, m)
            per_member = {**{k: v[m] for k, v in measured.items()},
                          **weight_metrics(weights), **bias_metrics(biases)}
            scalars.update({(m, k): v for k, v in per_member.items()})
            if histograms_due:
                vectors.update({(m, f"weights/{n}"): histogram_stats(p) for n, p in weights})
        flat, stats = to_host(scalars, vectors)  # one host sync for every member
        newly_diverged = []
        for m, logger in enumerate(self.loggers):
            if self.diverged_epochs[m] is not None:
                continue  # frozen: its curves end where it diverged
            values = {k: v for (member, k), v in flat.items() if member == m}
            add_gaps(values)
            log_scalars(logger, values, epoch)
            for (member, tag), numbers in stats.items():
                if member == m:
                    write_histogram(logger.experiment, tag, numbers, epoch)
            self.histories[m].append({"epoch": epoch, **values})
            if not all(math.isfinite(v) for v in values.values()):
                self.diverged_epochs[m] = epoch
                newly_diverged.append(m)
        if newly_diverged:
            module.freeze(newly_diverged)
            log.warning("members %s diverged at epoch %d: frozen, the others go on",
                        newly_diverged, epoch)
        if not any(d is None for d in self.diverged_epochs):
            trainer.should_stop = True
        self.metric_seconds.append(time.perf_counter() - started)
        self.progress(epoch, trainer.max_epochs)

    def progress(self, epoch: int, max_epochs: int) -> None:
        every = max(1, (max_epochs or 1) // 20)
        if not (epoch <= 1 or epoch == max_epochs or epoch % every == 0):
            return
        key = "acc/test" if self.data.task == "classification" else "loss/test"
        live = [h[-1][key] for h, d in zip(self.histories, self.diverged_epochs) if d is None]
        seconds = f"  {self.train_seconds[-1]:.2f}s/epoch" if self.train_seconds else ""
        shown = " ".join(f"{v:.4g}" for v in live)
        log.info("epoch %3d/%s  %d members  %s %s%s", epoch, max_epochs, len(live), key, shown,
                 seconds)
