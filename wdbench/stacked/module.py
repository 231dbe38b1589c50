"""The LightningModule for a stacked grid: the ordinary RegularizedModule (same minibatch
loop, same regulariser hooks) with one loss per member, and diverged members frozen."""

import torch

from wdbench.module import RegularizedModule
from wdbench.stacked.model import member_losses


class StackedModule(RegularizedModule):
    def __init__(self, model, regularizer, make_optimizer, task: str, config=None,
                 make_scheduler=None):
        super().__init__(model, regularizer, make_optimizer, self.live_losses, config,
                         make_scheduler=make_scheduler)
        self.task = task
        self.stop_on_nonfinite = False  # one member diverging must not stop the others
        self.alive = torch.ones(model.members, dtype=torch.bool)
        self.frozen: dict[str, torch.Tensor] = {}

    def on_fit_start(self) -> None:
        self.alive = self.alive.to(self.device)
        self.regularizer.move_to(self.device)

    def live_losses(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Each member's data loss; a frozen member's counts as 0, so it gets no gradient."""
        return torch.where(self.alive, member_losses(self.task, output, target), 0.0)

    def freeze(self, members: list[int]) -> None:
        """Stop training `members` (diverged): keep their weights as they are now."""
        self.alive[members] = False
        dead = ~self.alive
        self.frozen = {name: p.detach()[dead].clone() for name, p in self.model.named_parameters()}

    def update(self, optimizer) -> None:
        super().update(optimizer)
        if self.frozen:  # the optimizer's momentum or decay may still move them: put them back
            dead = ~self.alive
            with torch.no_grad():
                for name, param in self.model.named_parameters():
                    param[dead] = self.frozen[name]
