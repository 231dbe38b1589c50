"""SIGINT (Ctrl+C) and SIGTERM (a cluster pre-empting the job) end a run cleanly: training
stops after the current batch, a checkpoint that resumes exactly is written, and the summary
says "interrupted". Before training starts there is nothing to save: the run ends at once."""

import logging
import os
import shlex
import signal
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

import pytorch_lightning as pl
import torch

from wdbench.training.ddp import agreed_signal

log = logging.getLogger("wdbench")
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class RunInterrupted(Exception):
    def __init__(self, signum: int, checkpoint: Path | None = None, where: str = ""):
        self.signum = int(signum)
        self.name = signal.Signals(self.signum).name
        self.checkpoint = checkpoint
        self.where = where
        super().__init__(f"interrupted by {self.name} {where}".strip())


def can_handle_signals() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def raise_on_signal():
    """Outside training (reading data, building the model) a signal ends the run at once."""
    def stop_now(signum, frame):
        raise RunInterrupted(signum, where="before training began")

    if not can_handle_signals():
        yield
        return
    previous = {s: signal.getsignal(s) for s in STOP_SIGNALS}
    for s in STOP_SIGNALS:
        signal.signal(s, stop_now)
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def rng_state() -> dict:
    state = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


class StopOnSignal(pl.Callback):
    """Stops at a batch boundary and writes `checkpoint_path`. The checkpoint holds what an
    exact resume needs beyond Lightning's own state: the RNG (dropout) and, through the other
    parts' hooks, the loader position, the epoch's loss sums and the metric history."""

    def __init__(self, checkpoint_path: Path, overrides: list[str]):
        self.checkpoint_path = Path(checkpoint_path)
        self.overrides = [o for o in overrides if not o.startswith("resume=")]
        self.signum: int | None = None
        self.interrupted = False
        self._announced = False
        self._rng_to_restore: dict | None = None

    def handle_signals(self) -> None:
        if can_handle_signals():
            for s in STOP_SIGNALS:
                signal.signal(s, self.request_stop)

    def on_fit_start(self, trainer, module) -> None:
        # From here on a signal only sets a flag: raise_on_signal's handler would raise inside
        # whatever runs, a log write of the epoch-0 measurement included, which logging swallows.
        self.handle_signals()

    def on_train_start(self, trainer, module) -> None:
        # Lightning registered its SIGTERM handler just before this hook; ours replaces it for
        # both signals, and Lightning's teardown puts back the handlers from before fit.
        self.handle_signals()
        if self._rng_to_restore is not None:  # resuming: the last thing before the first batch
            set_rng_state(self._rng_to_restore)
            self._rng_to_restore = None

    def request_stop(self, signum, frame) -> None:
        if self.signum is not None:
            raise KeyboardInterrupt  # asked twice: stop at once, without a checkpoint
        # Only a flag: logging here could re-enter a log write the signal interrupted.
        self.signum = signum

    def stop_requested(self, trainer) -> bool:
        if self.signum is None and trainer.received_sigterm:  # came before on_train_start
            self.signum = signal.SIGTERM
        # Under DDP, whether any rank got one. A signal that lands while the ranks agree stays
        # in self.signum for the next batch: it must never be overwritten by "none".
        agreed = agreed_signal(trainer, self.signum)
        if agreed is None:
            return False
        self.signum = agreed
        if not self._announced:
            self._announced = True
            log.warning("received %s: stopping after this batch and saving a checkpoint "
                        "(send it again to stop at once)", signal.Signals(self.signum).name)
        return True

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:
        # On an epoch's last batch, wait for the epoch end: its metrics get recorded first.
        if self.stop_requested(trainer) and batch_idx + 1 < trainer.num_training_batches:
            self.stop(trainer, f"in epoch {trainer.current_epoch + 1} after batch "
                               f"{batch_idx + 1} of {trainer.num_training_batches}")

    def on_train_epoch_end(self, trainer, module) -> None:
        last_epoch = trainer.current_epoch + 1 >= (trainer.max_epochs or 0)
        if self.stop_requested(trainer) and not last_epoch:  # on the last, simply finish
            self.stop(trainer, f"after epoch {trainer.current_epoch + 1}")

    def stop(self, trainer, where: str) -> None:
        self.interrupted = True
        temporary = self.checkpoint_path.with_name(f".{self.checkpoint_path.name}.tmp")
        trainer.save_checkpoint(temporary)  # every rank calls it; rank 0 writes
        if trainer.is_global_zero:
            os.replace(temporary, self.checkpoint_path)  # complete or absent, like summary.json
        raise RunInterrupted(self.signum, self.checkpoint_path, where)

    def state_dict(self) -> dict:
        return {"interrupted": self.interrupted, "overrides": self.overrides, "rng": rng_state()}

    def load_state_dict(self, state_dict: dict) -> None:
        self._rng_to_restore = state_dict["rng"]


def interruption_summary(stop: RunInterrupted, run_dir: Path, overrides: list[str]) -> dict:
    """What summary.json says about an interrupted run, with the command that continues it:
    the same Python, so it works as printed without an activated environment."""
    kept = [shlex.quote(o) for o in overrides if not o.startswith("resume=")]
    command = " ".join([shlex.quote(sys.executable), "-m wdbench", *kept,
                        f"\"resume='{run_dir}'\""])
    return {"signal": stop.name, "signum": stop.signum, "interrupted": stop.where,
            "checkpoint": str(stop.checkpoint), "resume_with": command}
