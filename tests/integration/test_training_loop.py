"""The minibatch loop inside RegularizedModule.training_step (Lightning sees blocks of
minibatches) trains exactly like a hand-written PyTorch loop over the same minibatches."""

import copy
import functools
import math

import pytest
import pytorch_lightning as pl
import torch

from wdbench.data.synthetic import make_synthetic
from wdbench.models import MLP
from wdbench.regularizers import L2
from wdbench.training.module import RegularizedModule, squared_error

pytestmark = pytest.mark.filterwarnings("ignore:.*LeafSpec")  # inside Lightning, not ours
TRAIN, BATCH, EPOCHS, SEED, LR, LAMBDA = 22, 4, 3, 3, 0.05, 0.1
STEPS_PER_EPOCH = math.ceil(TRAIN / BATCH)  # 6, the last minibatch has 2 rows


def tiny_data(block_rows: int):
    data = make_synthetic(batch_size=BATCH, train_size=TRAIN, test_size=10, num_inputs=6,
                          seed=SEED)
    data.block_rows = block_rows
    return data


def fit(module, data, epochs: int = EPOCHS) -> pl.Trainer:
    trainer = pl.Trainer(max_epochs=epochs, accelerator="cpu", devices=1, logger=False,
                         enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False)
    trainer.fit(module, datamodule=data)
    return trainer


def epoch_order(epoch: int) -> torch.Tensor:
    """The order wdbench promises, drawn here without its code: a fresh permutation each
    epoch from a generator seeded by (seed, epoch) alone, as seed·100003 + epoch."""
    return torch.randperm(TRAIN, generator=torch.Generator().manual_seed(SEED * 100_003 + epoch))


def plain_loop(model, x, y):
    """The lecture's update by hand: SGD with momentum on data loss + (lambda/2)||W||^2."""
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=0.9)
    for epoch in range(EPOCHS):
        order = epoch_order(epoch)
        losses = []
        for start in range(0, TRAIN, BATCH):
            index = order[start : start + BATCH]
            data_loss = squared_error(model(x[index]), y[index])
            weights = [p for p in model.parameters() if p.ndim > 1]
            loss = data_loss + LAMBDA / 2 * sum(w.pow(2).sum() for w in weights)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(data_loss.item())
    return sum(losses) / len(losses)  # the last epoch's mean minibatch data loss


# 4 rows: one minibatch per block; 12: three per block, the last block partial; 65536: one block.
@pytest.mark.parametrize("block_rows", [4, 12, 65536])
def test_blocks_train_exactly_like_a_plain_loop(block_rows):
    torch.manual_seed(0)
    model = MLP(6, 1, hidden=[5])
    reference = copy.deepcopy(model)
    data = tiny_data(block_rows)
    module = RegularizedModule(model, L2(strength=LAMBDA),
                               functools.partial(torch.optim.SGD, lr=LR, momentum=0.9),
                               squared_error)
    trainer = fit(module, data)

    last_epoch_loss = plain_loop(reference, data.splits.train_x, data.splits.train_y)
    for (name, trained), (_, expected) in zip(model.named_parameters(),
                                              reference.named_parameters()):
        torch.testing.assert_close(trained, expected, rtol=0, atol=1e-6, msg=name)
    assert trainer.global_step == EPOCHS * STEPS_PER_EPOCH
    assert module.steps == STEPS_PER_EPOCH
    assert math.isclose(module.epoch_means()["loss/train_step"].item(), last_epoch_loss,
                        rel_tol=1e-5)
    assert len(data.train_dataloader()) == math.ceil(STEPS_PER_EPOCH / max(1, block_rows // BATCH))


class Scheduled(RegularizedModule):
    def __init__(self, interval: str):
        torch.manual_seed(0)
        super().__init__(MLP(6, 1), L2(strength=0.0), functools.partial(torch.optim.SGD, lr=LR),
                         squared_error)
        self.interval = interval

    def configure_optimizers(self):
        optimizer = super().configure_optimizers()
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
        return {"optimizer": optimizer,
                "lr_scheduler": {"scheduler": scheduler, "interval": self.interval}}


@pytest.mark.parametrize("interval, halvings", [("epoch", EPOCHS),
                                                ("step", EPOCHS * STEPS_PER_EPOCH)])
def test_lr_schedulers_step_as_under_automatic_optimization(interval, halvings):
    module = Scheduled(interval)
    trainer = fit(module, tiny_data(12))
    assert trainer.optimizers[0].param_groups[0]["lr"] == pytest.approx(LR * 0.5**halvings)
