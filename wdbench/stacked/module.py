"""The LightningModule for a stacked grid: the ordinary RegularizedModule (same minibatch
loop, same regulariser hooks) with one loss per member, and diverged members frozen."""

import logging

import torch

from wdbench.training.module import RegularizedModule

log = logging.getLogger("wdbench")


class StackedModule(RegularizedModule):
    def __init__(self, model, regularizer, make_optimizer, loss_fn, config=None,
                 make_scheduler=None):
        super().__init__(model, regularizer, make_optimizer, self.live_losses, config,
                         make_scheduler=make_scheduler)
        self.member_loss = loss_fn
        self.alive = torch.ones(model.members, dtype=torch.bool)
        self.frozen: dict[str, torch.Tensor] = {}

    @property
    def members(self) -> int:
        return self.model.members

    def on_fit_start(self) -> None:
        self.alive = self.alive.to(self.device)
        self.regularizer.move_to(self.device)

    def live_losses(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Each member's data loss; a frozen member's counts as 0, so it gets no gradient."""
        return torch.where(self.alive, self.member_loss(output, target), 0.0)

    def nonfinite_due(self, steps_in_block: int, loss: torch.Tensor) -> bool:
        """One member diverging must not stop the others: the measurement finds it."""
        return False

    def diverged(self, members: list[int], epoch: int) -> None:
        """Freeze `members`; the others go on, and the run stops once none is left."""
        self.freeze(members)
        log.warning("members %s diverged at epoch %d: frozen, the others go on", members, epoch)
        if not self.alive.any():
            self.trainer.should_stop = True

    def member_state(self) -> dict[str, torch.Tensor]:
        """Everything with a member dimension: the parameters, and the buffers (batch norm's
        running statistics) that every forward pass in training mode updates."""
        return {**dict(self.model.named_parameters()), **dict(self.model.named_buffers())}

    def freeze(self, members: list[int]) -> None:
        """Stop training `members` (diverged): keep their weights and running statistics as
        they are now."""
        self.alive[members] = False
        dead = ~self.alive
        self.frozen = {name: t.detach()[dead].clone() for name, t in self.member_state().items()}

    def update(self, optimizer) -> None:
        super().update(optimizer)
        if self.frozen:  # momentum, decay and the forward pass may still move them: put them back
            dead = ~self.alive
            with torch.no_grad():
                for name, tensor in self.member_state().items():
                    tensor[dead] = self.frozen[name]
