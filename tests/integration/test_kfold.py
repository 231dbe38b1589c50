"""k-fold cross-validation: data.folds and data.fold carve the validation fold out of the
training set, for both data sets."""

import pytest
import torch

from wdbench.data import fashion_mnist
from wdbench.data.splits import fold_split
from wdbench.data.synthetic import make_synthetic
from wdbench.errors import ConfigError


@pytest.mark.parametrize("count,folds", [(20, 5), (23, 4), (7, 7)])
def test_folds_partition_the_examples(count, folds):
    """Each fold is disjoint from its training part, the two cover everything, and over all
    folds every example validates exactly once; fold sizes differ by at most one."""
    held_out_all = []
    for fold in range(folds):
        keep, held_out = fold_split(count, folds, fold, seed=3)
        assert set(keep.tolist()).isdisjoint(held_out.tolist())
        assert sorted(keep.tolist() + held_out.tolist()) == list(range(count))
        held_out_all += held_out.tolist()
    assert sorted(held_out_all) == list(range(count))
    sizes = [len(fold_split(count, folds, f, seed=3)[1]) for f in range(folds)]
    assert max(sizes) - min(sizes) <= 1


def test_fold_assignment_depends_on_the_seed():
    assert not torch.equal(fold_split(100, 5, 0, seed=0)[1], fold_split(100, 5, 0, seed=1)[1])
    assert torch.equal(fold_split(100, 5, 2, seed=4)[1], fold_split(100, 5, 2, seed=4)[1])


@pytest.mark.parametrize("folds,fold,key", [(1, 0, "data.folds"), (5, 5, "data.fold"),
                                            (30, 0, "data.folds"), (3, -1, "data.fold")])
def test_bad_folds_are_named(folds, fold, key):
    with pytest.raises(ConfigError, match=key):
        fold_split(20, folds, fold, seed=0)


def test_synthetic_fold_comes_from_the_training_draw():
    whole = make_synthetic(train_size=20, seed=2).splits
    rows = {tuple(r) for r in whole.train_x.tolist()}
    seen_val = []
    for fold in range(5):
        s = make_synthetic(train_size=20, folds=5, fold=fold, seed=2).splits
        assert len(s.train_x) == 16 and len(s.val_x) == 4
        assert {tuple(r) for r in s.val_x.tolist()} <= rows
        assert {tuple(r) for r in s.train_x.tolist()} | {tuple(r) for r in s.val_x.tolist()} == rows
        assert torch.equal(s.test_x, whole.test_x)  # the test set never moves
        seen_val += [tuple(r) for r in s.val_x.tolist()]
    assert set(seen_val) == rows


def rows(x: torch.Tensor) -> set:
    return {tuple(r) for r in x.tolist()}


def test_fashion_folds_split_the_training_subset(needs_fashion_mnist):
    folds = [fashion_mnist.make_fashion_mnist(train_size=900, folds=3, fold=f, seed=1).splits
             for f in range(3)]
    subset = rows(folds[0].train_x) | rows(folds[0].val_x)
    for s in folds:
        assert len(s.train_x) == 600 and len(s.val_x) == 300 and len(s.test_x) == 10000
        assert rows(s.train_x) | rows(s.val_x) == subset  # the same 900 images every fold
    val_sets = [rows(s.val_x) for s in folds]
    assert val_sets[0] | val_sets[1] | val_sets[2] == subset
    assert not val_sets[0] & val_sets[1] and not val_sets[1] & val_sets[2]
