"""The private parts of Lightning and TensorBoard that wdbench uses (wdbench/internals.py),
against the real libraries: an upgrade that moves them fails here first."""

import pytest
import pytorch_lightning as pl
import torch
from pytorch_lightning.loggers import TensorBoardLogger
from tensorboard.compat.proto.summary_pb2 import Summary

from tests.helpers.tb import read_events
from wdbench.internals import add_summary, count_optimizer_steps, event_file_writer


class StepsByHand(pl.LightningModule):
    """Manual optimization that steps the optimizer itself, `per_batch` times a batch, as
    RegularizedModule's minibatch loop does."""

    def __init__(self, per_batch: int):
        super().__init__()
        self.automatic_optimization = False
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.per_batch = per_batch

    def training_step(self, batch, batch_idx):
        optimizer = self.optimizers().optimizer
        for _ in range(self.per_batch):
            (self.weight - 1).pow(2).sum().backward()
            optimizer.step()
            optimizer.zero_grad()
        count_optimizer_steps(self.trainer, self.per_batch)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)

    def train_dataloader(self):
        return torch.utils.data.DataLoader(torch.zeros(4, 1), batch_size=1)


def test_counted_steps_are_lightnings_global_step_and_stop_max_steps(tmp_path):
    trainer = pl.Trainer(max_epochs=10, max_steps=9, logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False,
                         default_root_dir=tmp_path)
    module = StepsByHand(per_batch=3)
    trainer.fit(module)
    assert trainer.global_step == 9  # 3 batches of 3 steps, then max_steps stopped it
    # SGD on (w - 1)^2 with lr 0.1: w <- 0.8 w + 0.2, so after n steps from 0, w = 1 - 0.8^n
    # (float32 rounding over nine steps stays far below 1e-6)
    assert module.weight.item() == pytest.approx(1 - 0.8**9, abs=1e-6)


def test_a_whole_summary_lands_as_one_event_in_the_loggers_file(tmp_path):
    logger = TensorBoardLogger(str(tmp_path), name="", version="")
    values = [Summary.Value(tag=f"loss/{split}", simple_value=v)
              for split, v in (("train", 1.5), ("test", 2.5))]
    assert add_summary(logger.experiment, Summary(value=values), step=7)
    logger.finalize("success")
    events = read_events(tmp_path)
    assert [(e.step, e.value) for e in events.Scalars("loss/test")] == [(7, 2.5)]
    assert [(e.step, e.value) for e in events.Scalars("loss/train")] == [(7, 1.5)]


def test_anything_but_a_summary_writer_has_no_event_file():
    assert event_file_writer(object()) is None
    assert not add_summary(None, Summary(), step=0)
