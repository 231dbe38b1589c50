"""The best λ against the training-set size, in Wang & Aitchison's (2024) terms: AdamW's
weights average over about τ_iter = 1/(lr·λ) steps, τ_epoch = τ_iter·B/N epochs; their rule
is a constant best τ_epoch as N grows, so the best λ falls as 1/N at a fixed lr."""

import math

import pandas as pd

from wdbench.errors import WdbenchError
from wdbench.report import markdown


def constant(runs: pd.DataFrame, key: str) -> float:
    values = pd.to_numeric(runs[key], errors="coerce").dropna().unique()
    if len(values) != 1:
        raise WdbenchError(f"--data-size needs one value of {key} over the runs, "
                         f"found {sorted(values)}")
    return float(values[0])


def taus(choices: pd.DataFrame, lr: float, batch: float) -> pd.DataFrame:
    """τ_iter and τ_epoch of each chosen λ; the λ the 1/N rule predicts from the smallest N."""
    table = choices.copy()
    table["tau_iter"] = 1 / (lr * table["y"])
    table["tau_epoch"] = table["tau_iter"] * batch / table["x"]
    smallest = table.sort_values("x").groupby(["variant", "seed"]).first()
    anchor = table.apply(lambda row: smallest.loc[(row["variant"], row["seed"])], axis=1)
    table["rule_y"] = anchor["y"] * anchor["x"] / table["x"]
    return table


def tau_lines(choices: pd.DataFrame, runs: pd.DataFrame, x: str) -> list[str]:
    lr, batch = constant(runs, "optimizer.lr"), constant(runs, "data.batch_size")
    epochs = constant(runs, "trainer.max_epochs")
    table = taus(choices, lr, batch)
    rows = []
    for _, row in table[table["seed"] == "mean"].iterrows():
        per_seed = table[(table["seed"] != "mean") & (table["x"] == row["x"])
                         & (table["variant"] == row["variant"])]
        rows.append([row["variant"], f"{row['x']:g}", f"{row['y']:g}", f"{row['rule_y']:.3g}",
                     f"{row['tau_iter']:.3g}", f"{row['tau_epoch']:.3g}",
                     f"{row['tau_epoch'] / epochs:.3g}",
                     ", ".join(f"{t:.3g}" for t in per_seed["tau_epoch"]), row["warning"]])
    mean = table[table["seed"] == "mean"]
    spread = mean["tau_epoch"].max() / mean["tau_epoch"].min() if len(mean) else math.nan
    sizes = mean["x"].max() / mean["x"].min() if len(mean) else math.nan
    return [
        "## Best τ in epochs per training-set size (Wang & Aitchison 2024)", "",
        (f"τ_iter = 1/(lr·λ*) steps with lr = {lr:g}; τ_epoch = τ_iter·B/N with B = {batch:g}; "
        f"every size trained {epochs:g} epochs. The 1/N rule's λ is the smallest size's best λ "
        "times N_smallest/N."), "",
        markdown.table(["setting", f"N ({x})", "best λ (mean over seeds)", "λ by the 1/N rule",
                        "τ_iter (steps)", "τ_epoch", "τ_epoch / epochs trained",
                        "τ_epoch per seed", "warning"], rows), "",
        (f"Across a {sizes:.3g}× range of N the best τ_epoch (mean plane) varies "
        f"{spread:.3g}×; a constant τ_epoch would vary 1× and a constant λ {sizes:.3g}×."), "",
    ]
