"""Where weight decay acts: the part of the first layer's weight inside the span of the training
inputs, and the part orthogonal to it. The data gradient of a weight W that multiplies the
inputs is a sum of (something) x_i^T over the training rows x_i, so its rows only ever move
inside span{x_i}; the orthogonal (null-space) part changes through the regulariser alone. On
the lecture's task (20 rows, 200 inputs) that null space has 180 of the 200 directions."""

import torch
from torch import nn


class InputSpan:
    """An orthonormal basis of span{x_i} (or of its orthogonal complement, whichever is
    smaller), built once from the training inputs as the model sees them, on their device.

    Rank tolerance: the eigenvalues of X^T X computed in float64 carry an error of about
    max(n, d) * eps64 * lambda_max (rounding in forming the Gram matrix, then in eigh), so an
    eigenvalue at or below that is indistinguishable from 0 and its direction counts as null.
    In singular values that is s <= s_max * sqrt(max(n, d) * eps64), about 1e-5 * s_max for
    Fashion-MNIST's 55,000 rows: a direction the data moves the weights 1e-10 times as fast as
    its main one is, for training, undetermined by the data."""

    def __init__(self, inputs: torch.Tensor):
        x = inputs.detach().reshape(len(inputs), -1).double()
        rows, dim = x.shape
        self.dim = dim
        eigenvalues, eigenvectors = torch.linalg.eigh(x.T @ x)
        tolerance = eigenvalues[-1].clamp(min=0) * max(rows, dim) * torch.finfo(x.dtype).eps
        inside = eigenvalues > tolerance
        self.rank = int(inside.sum())
        # Project on the smaller side: the cost per measurement is 2 * out * d * min(r, d - r).
        self.basis_is_null = self.rank > dim - self.rank
        chosen = ~inside if self.basis_is_null else inside
        self.basis = eigenvectors[:, chosen].to(inputs.dtype)

    @torch.no_grad()
    def split(self, weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(||W inside the span||, ||W orthogonal to it||) of a weight (..., out, d), norms over
        its last two dimensions (so a stack (M, out, d) gives one pair per member). Both are
        computed directly, the second as ||W - W B B^T||, never as a difference of squares,
        which would cancel when one part is much smaller than the other."""
        w = weight.detach()
        coordinates = w @ self.basis
        on_basis = coordinates.flatten(-2).norm(dim=-1)
        rest = (w - coordinates @ self.basis.T).flatten(-2).norm(dim=-1)
        return (rest, on_basis) if self.basis_is_null else (on_basis, rest)


def first_layer_weight(model: nn.Module, named_weights: list[tuple[str, torch.Tensor]]):
    """The weight that multiplies the inputs (a linear model's only weight, an MLP's first
    layer), if it is regularised; None otherwise."""
    first = next((p for p in model.parameters() if p.ndim >= 2), None)
    regularized = {id(p) for _, p in named_weights}
    return first if first is not None and id(first) in regularized else None


class SpanMetrics:
    """`weights/l2_span` and `weights/l2_null` of the first layer's weight, the basis built at
    the first measurement from the data module's training inputs (after preprocessing, the
    training subset or fold in use), on the device they live on."""

    def __init__(self, max_rows: int | None = None):
        self.max_rows = max_rows
        self.span: InputSpan | None = None

    def __call__(self, data, model: nn.Module, named_weights) -> dict[str, torch.Tensor]:
        weight = first_layer_weight(model, named_weights)
        rows = len(data.splits.train_x)
        if weight is None or (self.max_rows is not None and rows > self.max_rows):
            return {}
        if self.span is None:
            self.span = InputSpan(data.splits.train_x)
        if weight.shape[-1] != self.span.dim:
            return {}
        span, null = self.span.split(weight)
        return {"weights/l2_span": span, "weights/l2_null": null}
