"""The slope of log λ* against log lr that each update's fixed point predicts, for a network
without normalisation (under batch norm the angle, not the fixed point, sets the answer)."""

import math

import pandas as pd

PLANE = ("optimizer.lr", "regularizer.strength")
COUPLED = (0.0, "L2: the fixed point minimises L + λ‖w‖²/2 at every lr")
SGDW = (0.0, "lr·λ decay with momentum β: L2 of strength λ(1 − β) at every lr")
ADAMW = (0.0, "lr·λ decay after Adam's step: ‖w‖∞ ≤ 1/λ at every lr")
UNSCALED = (1.0, "λ decay, not scaled by the lr: radius lr/λ, so λ* ∝ lr")
NONE = (math.nan, "")


def only(runs: pd.DataFrame, key: str) -> str:
    """The one value `key` takes over these runs ('' where absent or several)."""
    values = {str(v) for v in runs[key].unique()} if key in runs else set()
    return values.pop() if len(values) == 1 else ""


def predicted_slope(runs: pd.DataFrame, plane: tuple[str, str]) -> tuple[float, str]:
    """(predicted slope, why) for the runs of one setting of an lr × λ plane; NONE where no
    fixed point gives one (another plane, normalisation, a kind without a formula)."""
    if tuple(plane) != PLANE or only(runs, "model.norm") not in ("", "None", "null", "nan", "<NA>"):
        return NONE
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
