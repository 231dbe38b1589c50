"""At the end of training: the run's row in the HParams dashboard and its lecture-style figure.
Runs in on_train_end, before Lightning closes the event file, so both land in it."""

import time
from pathlib import Path

import pytorch_lightning as pl

from wdbench.callbacks import EpochMetrics
from wdbench.figure import save_curves
from wdbench.hparams import run_hparams, write_hparams

FIGURE_FILE = "curves.png"


def run_title(hparams: dict) -> str:
    """E.g. "d2l_synthetic: l2, strength 3, seed 0"."""
    strength = hparams.get("regularizer.strength")
    kind = hparams.get("regularizer", "?")
    numeric = isinstance(strength, (int, float)) and not isinstance(strength, bool)
    described = f"{kind}, strength {strength:g}" if numeric else kind
    return f"{hparams.get('experiment', '')}: {described}, seed {hparams.get('seed')}"


class RunReport(pl.Callback):
    def __init__(self, epoch_metrics: EpochMetrics, config: dict, choices: dict,
                 overrides: list[str], run_dir: Path):
        self.epoch_metrics = epoch_metrics
        self.config = config
        self.choices = choices
        self.overrides = list(overrides)
        self.run_dir = Path(run_dir)
        self.started = time.time()

    def on_train_start(self, trainer, module) -> None:
        self.started = time.time()

    def on_train_end(self, trainer, module) -> None:
        history = self.epoch_metrics.history
        if not history or not trainer.is_global_zero:  # under DDP rank 0 writes
            return
        last_epoch = history[-1]["epoch"]
        completed = self.epoch_metrics.diverged_epoch is None
        hparams = run_hparams(self.config, self.choices, "completed" if completed else "diverged")
        writer = trainer.logger.experiment if trainer.logger is not None else None
        if writer is not None:
            classification = "acc/test" in history[-1]
            write_hparams(writer, hparams, completed, self.overrides, classification,
                          self.started, step=last_epoch)
        if self.config["metrics"]["figure"]:
            save_curves(history, run_title(hparams), self.run_dir / FIGURE_FILE, writer,
                        last_epoch)
