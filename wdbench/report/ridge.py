"""Closed forms for ridge regression with isotropic inputs, in wdbench's convention: minimise
mean (x_i^T w + b - y_i)^2 / 2 + (lambda/2) ||w||^2, the bias b unpenalised. The truth is
y = x^T w* + b* + eps, x ~ N(0, I_d), eps ~ N(0, sigma^2)."""

import numpy as np


def optimal_strength(dim: int, rows: int, noise_std: float, truth_norm: float) -> float:
    """lambda* = d sigma^2 / (n ||w*||^2): the strength that minimises the expected test risk
    of the converged fit (Dobriban & Wager 2018; Nakkiran et al. 2021, whose lambda = d sigma^2 /
    ||w*||^2 is for the unnormalised ||Xw - y||^2 + lambda ||w||^2: divide by n for the mean)."""
    return dim * noise_std**2 / (rows * truth_norm**2)


def ridge_fit(x, y, strength: float) -> tuple[np.ndarray, float]:
    """The exact minimiser (w, b), in float64. The free bias absorbs the means, leaving ridge on
    centred data. strength = 0: where gradient descent from (w, b) = 0 goes, the least-squares
    fit of least ||w||^2 + b^2 (the bias is one more weight, on a constant input; its steps
    stay in the row space of [X, 1]): the minimum-norm interpolant when n <= d + 1."""
    x = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if strength == 0:
        solution = np.linalg.pinv(np.hstack([x, np.ones((len(x), 1))])) @ y
        return solution[:-1], float(solution[-1])
    x_mean, y_mean = x.mean(axis=0), y.mean()
    xc, yc = x - x_mean, y - y_mean
    gram = xc.T @ xc / len(x) + strength * np.eye(x.shape[1])
    weight = np.linalg.solve(gram, xc.T @ yc / len(x))
    return weight, float(y_mean - x_mean @ weight)


def expected_risk(weight, bias: float, true_weight, true_bias: float, noise_std: float) -> float:
    """E (x^T w + b - y)^2 / 2 over a fresh (x, y): with x ~ N(0, I) and independent noise it
    is exactly (sigma^2 + ||w - w*||^2 + (b - b*)^2) / 2, the quantity a test loss estimates."""
    error = np.asarray(weight, dtype=np.float64).reshape(-1) - np.asarray(true_weight)
    return 0.5 * (noise_std**2 + float(error @ error) + (bias - true_bias) ** 2)
