"""The LightningModule: training loss = data loss + the regulariser's penalty."""

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch import nn

from wdbench.regularizers import Regularizer


def squared_error(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The lecture's loss, (y_hat - y)^2 / 2, averaged over the batch."""
    return (prediction - target).pow(2).mean() / 2


LOSSES = {"regression": squared_error, "classification": F.cross_entropy}


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
        self.reset_epoch_sums()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    def reset_epoch_sums(self) -> None:
        # Accumulated on the device and read once per epoch: no per-step logging or host sync.
        # Buffers (not saved in state_dict), so they follow the module to its device.
        for name in ("data_loss_sum", "penalty_sum"):
            self.register_buffer(name, torch.zeros((), device=self.device), persistent=False)
        self.steps = 0

    def on_train_epoch_start(self) -> None:
        self.reset_epoch_sums()

    def training_step(self, batch, batch_idx):
        x, y = batch
        data_loss = self.loss_fn(self.model(x), y)
        penalty = self.regularizer.penalty(self.model)
        self.data_loss_sum += data_loss.detach()
        self.penalty_sum += penalty.detach()
        self.steps += 1
        return data_loss + penalty

    def epoch_means(self) -> dict[str, torch.Tensor]:
        steps = max(self.steps, 1)
        return {"loss/train_step": self.data_loss_sum / steps, "loss/penalty": self.penalty_sum / steps}

    def configure_optimizers(self):
        optimizer = self.make_optimizer(self.regularizer.param_groups(self.model))
        if self.make_scheduler is None:
            return optimizer
        scheduler = {"scheduler": self.make_scheduler(optimizer), "interval": "epoch"}
        return {"optimizer": optimizer, "lr_scheduler": scheduler}

    # Group 0 holds the regularised weights (Regularizer.param_groups puts them first), so its
    # lr is the one decoupled decay follows, scheduled or not.
    def on_before_optimizer_step(self, optimizer) -> None:
        self.regularizer.before_update(self.model, optimizer.param_groups[0]["lr"])

    def optimizer_step(self, epoch, batch_idx, optimizer, optimizer_closure=None) -> None:
        super().optimizer_step(epoch, batch_idx, optimizer, optimizer_closure)
        self.regularizer.after_step(self.model, optimizer.param_groups[0]["lr"])

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint["wdbench_config"] = self.config
        # A checkpoint written mid-epoch (interruption) resumes the epoch's sums too.
        checkpoint["wdbench_epoch_sums"] = {"data_loss_sum": self.data_loss_sum.cpu(),
                                            "penalty_sum": self.penalty_sum.cpu(),
                                            "steps": self.steps}

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        sums = checkpoint.get("wdbench_epoch_sums")
        if sums:
            self.data_loss_sum.copy_(sums["data_loss_sum"])
            self.penalty_sum.copy_(sums["penalty_sum"])
            self.steps = sums["steps"]
