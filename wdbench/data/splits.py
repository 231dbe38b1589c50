"""Train/validation/test tensors, and the seeded choices that carve them out of a data set."""

from dataclasses import dataclass

import torch

from wdbench.config.checks import check_count


@dataclass
class Splits:
    """Everything a run trains and evaluates on, already as float features and targets."""

    train_x: torch.Tensor
    train_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    task: str  # "regression" or "classification"
    num_outputs: int
    train_corrupted: torch.Tensor | None = None  # training rows whose label the noise changed

    @property
    def num_features(self) -> int:
        return self.train_x.shape[1]


def choose_train_val(pool_size: int, train_size, val_size, seed: int, folds=None, fold=0):
    """Seeded, disjoint index sets: validation first, then the training subset from the rest.
    With `folds`, the training subset (train_size, null = the whole pool) is cut into that many
    folds instead and fold number `fold` validates; val_size is not used."""
    if folds is not None:
        train_size = pool_size if train_size is None else train_size
        train_size = check_count("data.train_size", train_size, 1, pool_size)
        order = torch.randperm(pool_size, generator=torch.Generator().manual_seed(seed))
        subset = order[:train_size]
        keep, held_out = fold_split(train_size, folds, fold, seed)
        return subset[keep], subset[held_out]
    val_size = check_count("data.val_size", val_size, 0, pool_size - 1)
    available = pool_size - val_size
    if train_size is None:
        train_size = available
    train_size = check_count("data.train_size", train_size, 1, available)
    order = torch.randperm(pool_size, generator=torch.Generator().manual_seed(seed))
    return order[val_size : val_size + train_size], order[:val_size]


def fold_split(count: int, folds, fold, seed: int):
    """k-fold cross-validation over `count` examples: a seeded permutation cut into `folds`
    near-equal parts; part `fold` validates, the others train. Over fold = 0..folds-1 every
    example validates exactly once."""
    folds = check_count("data.folds", folds, 2, max(2, count))
    fold = check_count("data.fold", fold, 0, folds - 1)
    gen = torch.Generator().manual_seed(seed + 4099)
    parts = torch.randperm(count, generator=gen).tensor_split(folds)
    rest = [part for i, part in enumerate(parts) if i != fold]
    return torch.cat(rest).sort().values, parts[fold].sort().values


def add_label_noise(targets: torch.Tensor, fraction: float, num_classes: int, seed: int):
    """Replace a seeded fraction of the targets by random ones (random classes, or random
    training targets for regression); the rest stay as they were."""
    if fraction == 0:
        return targets
    gen = torch.Generator().manual_seed(seed + 7919)
    count = round(fraction * len(targets))
    chosen = torch.randperm(len(targets), generator=gen)[:count]
    noisy = targets.clone()
    if num_classes > 1:
        noisy[chosen] = torch.randint(num_classes, (count,), generator=gen, dtype=targets.dtype)
    else:
        noisy[chosen] = targets[torch.randint(len(targets), (count,), generator=gen)]
    return noisy


def changed_rows(original: torch.Tensor, noisy: torch.Tensor) -> torch.Tensor | None:
    """A mask of the rows whose target the label noise changed; None when it changed none (a
    random class can be the row's own)."""
    changed = (original != noisy).reshape(len(original), -1).any(dim=1)
    return changed if changed.any() else None
