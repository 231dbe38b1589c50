"""Where full-batch AdamW and Adam + L2 go on least squares: the box-constrained solution
(Xie & Li 2024: AdamW with decay lr*lambda converges to a KKT point of min L subject to
||w||_inf <= 1/lambda) and the ridge solution, both in float64, the bias free; and a linear
run's trained (w, b) read from its checkpoint."""

from pathlib import Path

import numpy as np
import torch
from scipy.optimize import lsq_linear

from wdbench.outputs.files import RunDir


def design_matrix(x) -> np.ndarray:
    """The inputs with a column of ones for the bias, in float64."""
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    return np.hstack([x, np.ones((len(x), 1))])


def box_fit(x, y, strength: float) -> np.ndarray:
    """argmin mean (x.w + b - y)^2 subject to |w_i| <= 1/strength, b free: (w, b) as one vector."""
    design = design_matrix(x)
    bound = np.r_[np.full(design.shape[1] - 1, 1 / strength), np.inf]
    target = np.asarray(y, dtype=np.float64).reshape(-1)
    return lsq_linear(design, target, bounds=(-bound, bound), tol=1e-12).x


def least_squares_loss(x, y, params: np.ndarray) -> float:
    """mean (x.w + b - y)^2 / 2, wdbench's training loss of a linear model."""
    residual = design_matrix(x) @ params - np.asarray(y, dtype=np.float64).reshape(-1)
    return float(0.5 * np.mean(residual ** 2))


def checkpoint_params(run_dir: Path) -> np.ndarray:
    """A linear run's final (w, b) as one float64 vector, from its last checkpoint."""
    state = torch.load(RunDir(run_dir).checkpoint, weights_only=False)["state_dict"]
    weight = next(v for k, v in state.items() if k.endswith("weight"))
    bias = next(v for k, v in state.items() if k.endswith("bias"))
    return np.r_[weight.flatten().double().numpy(), bias.double().numpy()]
