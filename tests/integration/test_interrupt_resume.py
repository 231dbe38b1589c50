"""SIGINT and SIGTERM end a run as "interrupted" with a checkpoint; `resume=RUN_DIR` continues
it and ends with exactly the metrics of a run never interrupted (CPU, same seed)."""

import json
import os
import signal
import subprocess
import sys

import pytest
import pytorch_lightning as pl
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from tests.helpers.runs import run_config, run_main
from wdbench.data import loader
from wdbench.errors import ConfigError
from wdbench.training import train

# Dropout on, so the RNG state matters; 10 batches an epoch, 4 epochs.
SMALL = ["model=mlp", "model.hidden=[32]", "model.dropout=0.3", "data.train_size=100",
         "data.batch_size=10", "trainer.max_epochs=4", "threads=1", "seed=3"]
# Long enough epochs (240 batches, about 0.3 s) for a signal from outside to land mid-run.
LONG = ["model=mlp", "model.dropout=0.3", "data.train_size=1200", "trainer.max_epochs=3",
        "threads=1", "seed=4"]
RESULT_KEYS = ("train_loss", "test_loss", "gap_loss", "weight_l2", "weight_l1", "layer_l2",
               "epochs")


def results(summary: dict) -> dict:
    return {key: summary[key] for key in RESULT_KEYS}


class SignalAtStep(pl.Callback):
    """Sends a real signal to this very process after a chosen optimizer step, once."""

    def __init__(self, signum: int, step: int):
        self.signum, self.step = signum, step

    def on_train_batch_end(self, trainer, *args) -> None:
        if trainer.global_step == self.step:
            self.step = None
            os.kill(os.getpid(), self.signum)


@pytest.fixture
def signal_at(monkeypatch):
    """Adds SignalAtStep to the real Trainer that train.run builds."""
    def install(signum: int, step: int):
        # One minibatch per Lightning batch, so a signal can land after any step (a run
        # trains in blocks of minibatches and stops at a block's end).
        monkeypatch.setattr(loader, "BLOCK_ROWS", 1)
        sender = SignalAtStep(signum, step)
        make_trainer = train.make_trainer
        monkeypatch.setattr(train, "make_trainer", lambda cfg, logger, callbacks, root, *rest:
                            make_trainer(cfg, logger, [*callbacks, sender], root, *rest))
    return install


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("whole")
    with pytest.MonkeyPatch.context() as patch:  # blocks as in signal_at: the same float sums
        patch.setattr(loader, "BLOCK_ROWS", 1)
        return run_config(run_dir, SMALL), (run_dir / "history.csv").read_text()


@pytest.mark.parametrize(("signum", "step", "where"), [
    (signal.SIGINT, 13, "in epoch 2 after batch 4 of 10"),  # mid-epoch
    (signal.SIGTERM, 20, "after epoch 2"),  # last batch: stops once the epoch is recorded
    (signal.SIGTERM, 1, "in epoch 1 after batch 2 of 10"),  # at the very start
])
def test_signal_then_resume_matches_uninterrupted(tmp_path, signal_at, uninterrupted,
                                                  signum, step, where):
    signal_at(signum, step)
    handler_before = signal.getsignal(signal.SIGINT)  # ignored if pytest runs in the background
    stopped = run_config(tmp_path / "a", SMALL)
    assert stopped["status"] == "interrupted" and stopped["interrupted"] == where
    assert stopped["signal"] == signal.Signals(signum).name
    assert (tmp_path / "a" / "checkpoints" / "last.ckpt").is_file()
    assert json.loads((tmp_path / "a" / "summary.json").read_text())["status"] == "interrupted"
    assert signal.getsignal(signal.SIGINT) is handler_before  # handlers restored

    resumed = run_config(tmp_path / "b", [*SMALL, f"resume={tmp_path / 'a'}"])
    whole_summary, whole_history = uninterrupted
    assert resumed["status"] == "completed"
    assert resumed["resumed_from"].endswith("last.ckpt")
    assert results(resumed) == results(whole_summary)
    # every metric of every epoch, minibatch means included, equals the uninterrupted run's
    assert (tmp_path / "b" / "history.csv").read_text() == whole_history
    events = EventAccumulator(str(tmp_path / "b"))
    events.Reload()
    assert [e.step for e in events.Scalars("loss/test")] == [0, 1, 2, 3, 4]



# The real block size, no patch: 140,000 rows in minibatches of 4,096 make three Lightning
# batches an epoch (16 minibatches of 65,536 rows, 16 more, the last 3), so a signal can stop
# a run between blocks, in mid-epoch.
REAL_BLOCKS = ["data.train_size=140000", "data.num_inputs=5", "data.test_size=1000",
               "data.batch_size=4096", "trainer.max_epochs=2", "threads=1", "seed=2"]


def checkpoint_state(run_dir) -> dict:
    path = run_dir / "checkpoints" / "last.ckpt"
    return torch.load(path, weights_only=False)["state_dict"]


def assert_same_run(run_dir, reference_dir) -> None:
    """Every metric of every epoch (history.csv, byte for byte) and every final weight."""
    history = (run_dir / "history.csv").read_text()
    assert history == (reference_dir / "history.csv").read_text()
    state, reference = checkpoint_state(run_dir), checkpoint_state(reference_dir)
    assert state.keys() == reference.keys()
    assert all(torch.equal(state[key], reference[key]) for key in state)


def test_mid_epoch_resume_with_the_real_block_size(tmp_path, monkeypatch):
    """SIGINT during the first block of epoch 1 (it stops after the second); resumed from the checkpoint's path; equal to
    the run never stopped, to the last bit. With another thread count it is accepted."""
    whole = run_config(tmp_path / "whole", REAL_BLOCKS)
    assert whole["steps"] == 2 * 35
    sender = SignalAtStep(signal.SIGINT, 16)
    make_trainer = train.make_trainer
    monkeypatch.setattr(train, "make_trainer", lambda cfg, logger, callbacks, root, *rest:
                        make_trainer(cfg, logger, [*callbacks, sender], root, *rest))
    stopped = run_config(tmp_path / "a", REAL_BLOCKS)
    monkeypatch.undo()
    assert stopped["status"] == "interrupted"
    assert stopped["interrupted"] == "in epoch 1 after batch 2 of 3"  # the second block
    checkpoint = tmp_path / "a" / "checkpoints" / "last.ckpt"
    resumed = run_config(tmp_path / "b", [*REAL_BLOCKS, f"resume={checkpoint}"])
    assert resumed["status"] == "completed" and resumed["resumed_from"] == str(checkpoint)
    assert_same_run(tmp_path / "b", tmp_path / "whole")
    other_threads = [o for o in REAL_BLOCKS if o != "threads=1"]
    again = run_config(tmp_path / "c", [*other_threads, "threads=2", f"resume={tmp_path / 'a'}"])
    assert again["status"] == "completed" and again["threads"] == 2 and again["epochs"] == 2


def start_and_signal(tmp_path, signum: int, when: str = "epoch   1/3"
                     ) -> tuple[int, str, dict]:
    """`python -m wdbench` in its own process, sent `signum` once it prints a line with `when`
    (by default: once its first epoch is done)."""
    env = {**os.environ, "HYDRA_FULL_ERROR": "0"}
    proc = subprocess.Popen([sys.executable, "-m", "wdbench", *LONG], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = []
    for line in proc.stdout:
        output.append(line)
        if when in line:
            proc.send_signal(signum)
            break
    output.append(proc.communicate(timeout=300)[0])
    summaries = list((tmp_path / "runs" / "default").glob("*/summary.json"))
    assert len(summaries) == 1, "".join(output)
    return proc.returncode, "".join(output), json.loads(summaries[0].read_text())


@pytest.fixture(scope="module")
def long_reference(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("long")
    run_config(run_dir, LONG)
    return run_dir


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_from_outside_ends_run_as_interrupted(tmp_path, signum, long_reference):
    returncode, output, summary = start_and_signal(tmp_path, signum)
    assert returncode == 128 + signum  # the shell's convention: 130 for Ctrl+C, 143 for TERM
    assert "Traceback" not in output
    assert summary["status"] == "interrupted" and summary["signal"] == signal.Signals(signum).name
    assert summary["epochs"] >= 1 and summary["checkpoint"].endswith("last.ckpt")
    # quoted for Hydra: run directory names contain '=' (e.g. strength=0.0)
    assert summary["resume_with"].endswith(f"resume='{summary['run_dir']}'\"")
    # continue it from the command line, exactly as summary.json says
    resumed = run_main([*LONG, f"resume='{summary['run_dir']}'"], cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    by_dir = {p.parent: json.loads(p.read_text())
              for p in (tmp_path / "runs" / "default").glob("*/summary.json")}
    [final] = [d for d, s in by_dir.items() if s["status"] == "completed"]
    assert_same_run(final, long_reference)


def test_sigint_after_the_epoch_0_line_stops_after_the_first_batch(tmp_path):
    """From the epoch-0 line on, a signal only asks to stop: no exception raised inside a log
    write (which logging reports as `--- Logging error ---` and swallows), a checkpoint."""
    returncode, output, summary = start_and_signal(tmp_path, signal.SIGINT, when="epoch   0/3")
    assert "Logging error" not in output and "Traceback" not in output, output
    assert returncode == 130 and summary["status"] == "interrupted", output
    assert summary["checkpoint"].endswith("last.ckpt")


def test_resume_refuses_what_it_cannot_continue(tmp_path, signal_at, uninterrupted):
    signal_at(signal.SIGTERM, 5)
    run_config(tmp_path / "a", SMALL)
    with pytest.raises(ConfigError) as err:  # another experiment than the one interrupted
        run_config(tmp_path / "b", [*SMALL, "seed=4", f"resume={tmp_path / 'a'}"])
    assert err.value.key == "seed" and "3 as in the run being resumed" in str(err.value)
    assert "model.dropout=0.3" in str(err.value)  # its overrides, to give again
    completed_run = uninterrupted[0]["run_dir"]
    with pytest.raises(ConfigError, match="ran to its end: there is nothing to resume"):
        run_config(tmp_path / "c", [*SMALL, f"resume={completed_run}"])
    with pytest.raises(ConfigError, match=r"^resume='.*nowhere' is invalid"):
        run_config(tmp_path / "d", [*SMALL, f"resume={tmp_path / 'nowhere'}"])
    assert not (tmp_path / "b").exists() and not (tmp_path / "c").exists()
