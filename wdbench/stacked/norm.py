"""Batch and layer normalisation for a stack of M members: inputs (M, B, F), each member with
its own affine parameters (M, F) and, for batch norm, its own running statistics (M, F), so
a member's slice of the state dict is exactly an ordinary nn.BatchNorm1d's or nn.LayerNorm's."""

import torch
import torch.nn.functional as F
from torch import nn


class StackedBatchNorm(nn.Module):
    def __init__(self, norms: list[nn.BatchNorm1d]):
        super().__init__()
        first = norms[0]
        self.eps, self.momentum = first.eps, first.momentum
        self.weight = nn.Parameter(torch.stack([n.weight.detach() for n in norms]))
        self.bias = nn.Parameter(torch.stack([n.bias.detach() for n in norms]))
        self.register_buffer("running_mean", torch.stack([n.running_mean for n in norms]))
        self.register_buffer("running_var", torch.stack([n.running_var for n in norms]))
        self.register_buffer("num_batches_tracked",
                             torch.stack([n.num_batches_tracked for n in norms]))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        # (M, B, F) -> (B, M·F): the M·F channels of one ordinary batch norm, so every member
        # gets torch's own kernel and update of its running statistics (views of the buffers).
        members, batch, features = h.shape
        channels = h.transpose(0, 1).reshape(batch, members * features)
        if self.training:
            self.num_batches_tracked += 1
        out = F.batch_norm(channels, self.running_mean.view(-1), self.running_var.view(-1),
                           self.weight.view(-1), self.bias.view(-1), self.training,
                           self.momentum, self.eps)
        return out.view(batch, members, features).transpose(0, 1)


class StackedLayerNorm(nn.Module):
    def __init__(self, norms: list[nn.LayerNorm]):
        super().__init__()
        self.eps = norms[0].eps
        self.weight = nn.Parameter(torch.stack([n.weight.detach() for n in norms]))
        self.bias = nn.Parameter(torch.stack([n.bias.detach() for n in norms]))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        normalised = F.layer_norm(h, h.shape[-1:], eps=self.eps)
        return normalised * self.weight.unsqueeze(1) + self.bias.unsqueeze(1)


STACKED = {nn.BatchNorm1d: StackedBatchNorm, nn.LayerNorm: StackedLayerNorm}
