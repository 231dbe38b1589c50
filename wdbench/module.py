"""The LightningModule: training loss = data loss + the regulariser's penalty."""

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch import nn

from wdbench.callbacks import CHECK_EVERY, GPU_CHECK_EVERY
from wdbench.regularizers import Regularizer
from wdbench.rotation import AngularUpdates, rotating_weights


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
        self.automatic_optimization = False  # training_step runs the minibatch loop itself
        self.stop_on_nonfinite = True  # a stacked grid freezes diverged members instead
        # each matrix's angle per step (rotation.py)
        self.angles = AngularUpdates(members=regularizer.members)
        self.reset_epoch_sums()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)

    def reset_epoch_sums(self) -> None:
        # Accumulated on the device and read once per epoch: no per-step logging or host sync.
        # Buffers (not saved in state_dict), so they follow the module to its device.
        for name in ("data_loss_sum", "penalty_sum"):
            self.register_buffer(name, torch.zeros((), device=self.device), persistent=False)
        self.steps = 0
        self.angles.reset()

    def on_train_epoch_start(self) -> None:
        self.reset_epoch_sums()

    def training_step(self, block, block_idx):
        """Train one block of minibatches (data/loader.py): the minibatch loop is a plain
        PyTorch loop, so Lightning's per-batch machinery runs once per block, not per step."""
        optimizer = self.optimizers().optimizer
        schedulers = [c for c in self.trainer.lr_scheduler_configs if c.interval == "step"]
        data_losses, penalties = [], []
        for x, y in block:
            data_loss = self.loss_fn(self.model(x), y)
            penalty = self.regularizer.penalty(self.model)
            # A constant zero penalty (no regulariser) adds nothing to the gradient: skip it.
            loss = data_loss + penalty if penalty.requires_grad else data_loss
            # A stacked grid's losses are one per member (each its own gradients): their sum.
            (loss if loss.ndim == 0 else loss.sum()).backward()
            self.update(optimizer)
            data_losses.append(data_loss.detach())
            penalties.append(penalty.detach())
            if self.nonfinite_due(len(data_losses), data_losses[-1] + penalties[-1]):
                break  # the divergence guard (callbacks.py) stops the run after this block
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
        so the check cannot wait for its end. Each check is a host sync: fewer on a GPU."""
        every = CHECK_EVERY if loss.device.type == "cpu" else GPU_CHECK_EVERY
        if not self.stop_on_nonfinite or steps_in_block % every:
            return False
        return not torch.isfinite(loss).all().item()

    def update(self, optimizer) -> None:
        """One optimizer step with the regulariser's hooks around it. Group 0 holds the
        regularised weights (Regularizer.param_groups puts them first), so its lr is the one
        decoupled decay follows, scheduled or not."""
        lr = optimizer.param_groups[0]["lr"]
        rotating = rotating_weights(self.regularizer, self.model)
        self.angles.remember(rotating)
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
                                            "angles": self.angles.state_dict()}

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        sums = checkpoint.get("wdbench_epoch_sums")
        if sums:
            self.data_loss_sum.copy_(sums["data_loss_sum"])
            self.penalty_sum.copy_(sums["penalty_sum"])
            self.steps = sums["steps"]
            self.angles.load_state_dict(sums.get("angles", {}), self.device)


def count_optimizer_steps(trainer: pl.Trainer, steps: int) -> None:
    """Lightning counts optimizer steps (trainer.global_step, max_steps, the checkpoint's
    global_step) when its optimizer wrapper steps; training_step steps the optimizer itself, so
    it adds them to the record Lightning's manual optimization keeps."""
    progress = trainer.fit_loop.epoch_loop.manual_optimization.optim_step_progress
    for _ in range(steps):
        progress.increment_ready()
        progress.increment_completed()
