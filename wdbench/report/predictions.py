"""The slope of log λ* against log lr that each pairing predicts on an lr × λ plane: from the
update's fixed point for a network without normalisation, from the scale invariance of the
hidden weight under batch norm.

Under batch norm every hidden Linear's weight w is scale-invariant: the network computes the
same for a·w (a > 0), and its gradient there is g/a. Each update then has a symmetry
w -> a·w, lr -> a^p·lr, λ -> a^q·λ that maps one run onto another whose directions of w are
the same at every step; once the run has forgotten its initial norm (the one thing the plane
does not rescale), runs along lr^q ∝ λ^p do the same, and λ* ∝ lr^(q/p). Term by term, each
must scale as w does (by a):

- SGD (momentum β, buffer g/a): lr·g needs lr ∝ a², p = 2. L2 (lr·λ·w through the buffer) or
  decay lr·λ·w outside it: lr·λ fixed, q = −2, slope −1; decay λ·w not scaled by the lr:
  q = 0, slope 0.
- Adam: the update m/√v is the same for g and g/a (ε aside), so lr ∝ a, p = 1. Decay lr·λ·w
  (torch's AdamW): q = −1, slope −1; decay λ·w (Loshchilov & Hutter's form): q = 0, slope 0.
  L2: the normalised gradient g + λ·w is the same when g/a + λ'·a·w ∝ g + λ·w, so λ' = λ/a²:
  q = −2, slope −2.

The same slopes follow from the equilibrium angle per step (van Laarhoven 2017, "L2
regularization versus batch and weight normalization"; Kosson, Messmer, Jaggi 2024,
"Rotational equilibrium"; metrics/rotation.py): sqrt(2·lr·λ/(1 + β)) for SGD + L2 and
sqrt(2·lr·λ·(1 − β1)/(1 + β1)) for torch's AdamW depend on lr·λ only, sqrt(2λ(1 − β1)/(1 + β1))
for decay λ·w with Adam on λ only (its norm settles at ∝ lr/√λ); Adam + L2 has no such closed
form, only the symmetry gives its −2. Adam's and batch norm's eps break the symmetry slightly.
The output Linear is not followed by a normalisation, is decayed by the same λ, and prefers
the fixed point's slope (the one without normalisation): the network's λ* is a compromise,
pulled from the hidden layer's slope toward that one."""

import math

import pandas as pd

PLANE = ("optimizer.lr", "regularizer.strength")
COUPLED = (0.0, "L2: the fixed point minimises L + λ‖w‖²/2 at every lr")
SGDW = (0.0, "lr·λ decay with momentum β: L2 of strength λ(1 − β) at every lr")
ADAMW = (0.0, "lr·λ decay after Adam's step: ‖w‖∞ ≤ 1/λ at every lr")
UNSCALED = (1.0, "λ decay, not scaled by the lr: radius lr/λ, so λ* ∝ lr")
NONE = (math.nan, "")
# Under batch norm: the hidden weight's scale symmetry (module docstring).
ANGLE_LR_LAMBDA = (-1.0, "batch norm: the hidden weight's angle per step depends on lr·λ only")
ANGLE_LAMBDA = (0.0, "batch norm: the hidden weight's angle per step depends on λ only")
ADAM_L2_BN = (-2.0, "batch norm, Adam + L2: w -> a·w, lr -> a·lr, λ -> λ/a² is a symmetry")
NO_NORM = ("", "None", "null", "nan", "<NA>")


def only(runs: pd.DataFrame, key: str) -> str:
    """The one value `key` takes over these runs ('' where absent or several)."""
    values = {str(v) for v in runs[key].unique()} if key in runs else set()
    return values.pop() if len(values) == 1 else ""


def predicted_slope(runs: pd.DataFrame, plane: tuple[str, str]) -> tuple[float, str]:
    """(predicted slope, why) for the runs of one setting of an lr × λ plane; NONE where no
    argument gives one (another plane, layer norm, a kind without a formula)."""
    if tuple(plane) != PLANE:
        return NONE
    norm = only(runs, "model.norm")
    if norm in NO_NORM:
        return fixed_point_slope(runs)
    return batch_norm_slope(runs) if norm == "batch" else NONE


def fixed_point_slope(runs: pd.DataFrame) -> tuple[float, str]:
    """Without normalisation: where the update stops, as a function of lr and λ."""
    kind, optimizer = only(runs, "regularizer"), only(runs, "optimizer")
    if kind == "l2" or (kind == "weight_decay" and optimizer != "adamw"):
        return COUPLED
    if kind == "weight_decay":
        return ADAMW
    if kind != "decoupled":
        return NONE
    if only(runs, "regularizer.scale_by_lr") == "False":
        return UNSCALED
    return ADAMW if optimizer.startswith("adam") else SGDW


def batch_norm_slope(runs: pd.DataFrame) -> tuple[float, str]:
    """Under batch norm: λ*'s power of lr under the hidden weight's scale symmetry."""
    kind, optimizer = only(runs, "regularizer"), only(runs, "optimizer")
    adam = optimizer.startswith("adam")
    if optimizer not in ("sgd", "adam", "adamw"):
        return NONE
    if kind == "l2" or (kind == "weight_decay" and optimizer != "adamw"):
        return ADAM_L2_BN if adam else ANGLE_LR_LAMBDA
    if kind == "weight_decay":
        return ANGLE_LR_LAMBDA
    if kind != "decoupled":
        return NONE
    return ANGLE_LAMBDA if only(runs, "regularizer.scale_by_lr") == "False" else ANGLE_LR_LAMBDA
