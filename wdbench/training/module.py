"""The LightningModule: training loss = data loss + the regulariser's penalty, and the
divergence guard."""

import logging

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch import nn

from wdbench.internals import count_optimizer_steps
from wdbench.metrics.gradients import GradientNorms
from wdbench.metrics.rotation import AngularUpdates, rotating_weights
from wdbench.regularizers import Regularizer
from wdbench.training.ddp import sum_over_ranks

log = logging.getLogger("wdbench")
CHECK_EVERY = 10  # steps between divergence checks within an epoch (CPU)
GPU_CHECK_EVERY = 50  # on a GPU each check is a host sync: fewer of them


def squared_error(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The lecture's loss, (y_hat - y)^2 / 2, averaged over the batch: a scalar for (B, 1)
    predictions, one per member for a stacked grid's (M, B, 1)."""
    return (prediction - target).pow(2).mean(dim=(-2, -1)) / 2


def cross_entropy(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy: a scalar for (B, C) logits, one per member for (M, B, C)."""
    if logits.ndim == 2:
        return F.cross_entropy(logits, target)
    members, batch = logits.shape[:2]
    losses = F.cross_entropy(logits.reshape(members * batch, -1), target.repeat(members),
                             reduction="none")
    return losses.view(members, batch).mean(dim=1)


# A stacked grid's losses are one per member: their sum gives each member its own gradients.
LOSSES = {"regression": squared_error, "classification": cross_entropy}


class RegularizedModule(pl.LightningModule):
    def __init__(
        self,
        model: nn.Module,
        regularizer: Regularizer,
        make_optimizer,
        loss_fn,
        config: dict | None = None,
        make_scheduler=None,
    ):
        super().__init__()
        self.model = model
        self.regularizer = regularizer
        self.make_optimizer = make_optimizer
        self.make_scheduler = make_scheduler  # optimizer -> lr scheduler, or None
        self.loss_fn = loss_fn
        self.config = config or {}
        self.automatic_optimization = False  # training_step runs the minibatch loop itself
        # each matrix's angle per step (rotation.py)
        self.angles = AngularUpdates(members=regularizer.members)
        self.gradients = GradientNorms(members=regularizer.members)  # metrics.grad_norms
        self.reset_epoch_sums()

    @property
    def members(self) -> int | None:
        """How many models train side by side: None for one plain model."""
        return None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    def reset_epoch_sums(self) -> None:
        # Accumulated on the device and read once per epoch: no per-step logging or host sync.
        # Buffers (not saved in state_dict), so they follow the module to its device.
        for name in ("data_loss_sum", "penalty_sum"):
            self.register_buffer(name, torch.zeros((), device=self.device), persistent=False)
        self.steps = 0
        self.angles.reset()
        self.gradients.reset()

    def on_train_epoch_start(self) -> None:
        self.reset_epoch_sums()

    def training_step(self, block, block_idx):
        """Train one block of minibatches (data/loader.py): the minibatch loop is a plain
        PyTorch loop, so Lightning's per-batch machinery runs once per block, not per step."""
        optimizer = self.optimizers().optimizer
        schedulers = [c for c in self.trainer.lr_scheduler_configs if c.interval == "step"]
        data_losses, penalties = [], []
        # DDP averages the ranks' gradients in manual_backward; alone, a plain backward skips
        # Lightning's per-step hooks.
        backward = self.manual_backward if self.trainer.world_size > 1 else torch.Tensor.backward
        for x, y in block:
            data_loss = self.loss_fn(self.model(x), y)
            penalty = self.regularizer.penalty(self.model)
            # A constant zero penalty (no regulariser) adds nothing to the gradient: skip it.
            loss = data_loss + penalty if penalty.requires_grad else data_loss
            # A stacked grid's losses are one per member (each its own gradients): their sum.
            backward(loss if loss.ndim == 0 else loss.sum())
            self.update(optimizer)
            data_losses.append(data_loss.detach())
            penalties.append(penalty.detach())
            if self.nonfinite_due(len(data_losses), data_losses[-1] + penalties[-1]):
                self.stop_diverged(len(data_losses))
                break
            for config in schedulers:  # as Lightning steps them under automatic optimization
                if (self.steps + len(data_losses)) % config.frequency == 0:
                    config.scheduler.step()
        # Summed on the device, once per block: no host sync, no per-step logging.
        self.data_loss_sum = self.data_loss_sum + torch.stack(data_losses).sum(0)
        self.penalty_sum = self.penalty_sum + torch.stack(penalties).sum(0)
        self.steps += len(data_losses)
        count_optimizer_steps(self.trainer, len(data_losses))

    def nonfinite_due(self, steps_in_block: int, loss: torch.Tensor) -> bool:
        """Every few steps, whether the loss is NaN or infinite: a block can be a whole epoch,
        so the check cannot wait for its end. The epoch sums catch a NaN from any step, so a
        check every few steps is enough; each is a host sync: fewer on a GPU."""
        every = CHECK_EVERY if loss.device.type == "cpu" else GPU_CHECK_EVERY
        if (self.steps + steps_in_block) % every:  # the epoch's steps, however blocks cut them
            return False
        # Under DDP every rank takes the same decision: the sum is non-finite on any rank's NaN.
        return not torch.isfinite(sum_over_ranks(self.trainer, loss)).all().item()

    def stop_diverged(self, steps_in_block: int) -> None:
        """The guard within an epoch: stop at once; the epoch's measurement records it."""
        self.trainer.should_stop = True
        log.warning("diverged in epoch %d (step %d): the training loss is NaN or infinite; "
                    "stopping", self.current_epoch + 1, self.steps + steps_in_block)

    def diverged(self, members: list[int], epoch: int) -> None:
        """The guard at a measurement: `members` (here the one model) measured NaN or
        infinite numbers at `epoch`, so the run stops."""
        self.trainer.should_stop = True
        log.warning("diverged at epoch %d: a loss or weight is NaN or infinite; stopping",
                    epoch)

    def update(self, optimizer) -> None:
        """One optimizer step with the regulariser's hooks around it. Group 0 holds the
        regularised weights (Regularizer.param_groups puts them first), so its lr is the one
        decoupled decay follows, scheduled or not."""
        lr = optimizer.param_groups[0]["lr"]
        rotating = rotating_weights(self.regularizer, self.model)
        self.angles.remember(rotating)
        self.gradients.measure(rotating)  # before any decay touches w
        self.regularizer.before_update(self.model, lr)
        optimizer.step()
        self.regularizer.after_step(self.model, lr)
        self.angles.measure()
        optimizer.zero_grad(set_to_none=True)

    def on_train_epoch_end(self) -> None:
        for config in self.trainer.lr_scheduler_configs:
            if config.interval == "epoch" and (self.current_epoch + 1) % config.frequency == 0:
                config.scheduler.step()

    def epoch_means(self) -> dict[str, torch.Tensor]:
        steps = max(self.steps, 1)
        return {"loss/train_step": self.data_loss_sum / steps, "loss/penalty": self.penalty_sum / steps}

    def configure_optimizers(self):
        optimizer = self.make_optimizer(self.regularizer.param_groups(self.model))
        if self.make_scheduler is None:
            return optimizer
        scheduler = {"scheduler": self.make_scheduler(optimizer), "interval": "epoch"}
        return {"optimizer": optimizer, "lr_scheduler": scheduler}

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint["wdbench_config"] = self.config
        # A checkpoint written mid-epoch (interruption) resumes the epoch's sums too.
        checkpoint["wdbench_epoch_sums"] = {"data_loss_sum": self.data_loss_sum.cpu(),
                                            "penalty_sum": self.penalty_sum.cpu(),
                                            "steps": self.steps,
                                            "angles": self.angles.state_dict(),
                                            "gradients": self.gradients.state_dict()}

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        sums = checkpoint.get("wdbench_epoch_sums")
        if sums:
            self.data_loss_sum.copy_(sums["data_loss_sum"])
            self.penalty_sum.copy_(sums["penalty_sum"])
            self.steps = sums["steps"]
            self.angles.load_state_dict(sums.get("angles", {}), self.device)
            self.gradients.load_state_dict(sums.get("gradients", {}), self.device)

