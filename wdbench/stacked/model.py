"""M MLPs of one architecture as one module: each nn.Linear becomes a StackedLinear whose
weight has shape (M, out, in), so a layer is one batched matmul for all members, and each
normalisation layer its stacked twin (stacked/norm.py). Parameter
names match the ordinary MLP's (`layers.0.weight`, ...), so exclude rules and checkpoints carry
over; the member dimension is always dim 0."""

import torch
from torch import nn

from wdbench.stacked.norm import STACKED


class StackedLinear(nn.Module):
    def __init__(self, linears: list[nn.Linear]):
        super().__init__()
        self.weight = nn.Parameter(torch.stack([lin.weight.detach() for lin in linears]))
        self.bias = nn.Parameter(torch.stack([lin.bias.detach() for lin in linears]))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        # h: (B, in), the same minibatch for every member, or (M, B, in); result (M, B, out).
        return torch.matmul(h, self.weight.transpose(1, 2)) + self.bias.unsqueeze(1)


class StackedMLP(nn.Module):
    """Built from M ordinary MLPs, each initialised as its ordinary run would be."""

    def __init__(self, members: list[nn.Module]):
        super().__init__()
        self.members = len(members)
        layers = []
        for position, layer in enumerate(members[0].layers):
            if isinstance(layer, nn.Linear):
                layers.append(StackedLinear([m.layers[position] for m in members]))
            elif type(layer) in STACKED:  # each member keeps its own statistics
                layers.append(STACKED[type(layer)]([m.layers[position] for m in members]))
            else:
                layers.append(layer)  # ReLU and Dropout act elementwise
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)

    def member_state_dict(self, member: int) -> dict[str, torch.Tensor]:
        """The state dict an ordinary MLP with the same settings loads as it is."""
        return {name: value[member].detach().clone() for name, value in self.state_dict().items()}

