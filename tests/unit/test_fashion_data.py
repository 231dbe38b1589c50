"""IDX reading and validation on files the tests write, and the real data where installed."""

import gzip

import numpy as np
import pytest
import torch

from tests.helpers.fashion import idx_bytes, write_fake_fashion
from tests.helpers.runs import run_config
from wdbench.data import fashion_mnist
from wdbench.data.idx import read_idx
from wdbench.errors import ConfigError, DataError


@pytest.fixture
def no_system_copy(monkeypatch, tmp_path):
    """Pretend neither Debian's package nor a download cache exists."""
    monkeypatch.setattr(fashion_mnist, "DEBIAN_DIR", tmp_path / "no-debian")
    monkeypatch.setattr(fashion_mnist, "DOWNLOAD_DIR", tmp_path / "no-cache")


def test_read_idx_round_trip(tmp_path):
    array = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    (tmp_path / "a").write_bytes(idx_bytes(array))
    (tmp_path / "a.gz").write_bytes(gzip.compress(idx_bytes(array)))
    for name in ("a", "a.gz"):
        assert torch.equal(read_idx(tmp_path / name), torch.from_numpy(array.astype(np.uint8)))


@pytest.mark.parametrize("damage", ["truncated", "bad_magic", "not_gzip"])
def test_corrupt_idx_is_named(tmp_path, damage):
    good = idx_bytes(np.zeros((5, 28, 28)))
    path = tmp_path / ("f.gz" if damage == "not_gzip" else "f")
    path.write_bytes({"truncated": good[:-100], "bad_magic": b"\x00\x00\x0d\x03" + good[4:],
                      "not_gzip": good}[damage])
    with pytest.raises(DataError, match=str(path)):
        read_idx(path)


@pytest.mark.parametrize("layout", ["flat_gz", "torchvision_raw"])
def test_data_root_layouts(tmp_path, no_system_copy, layout):
    root = tmp_path / "root"
    if layout == "flat_gz":
        write_fake_fashion(root, gz=True)
    else:
        write_fake_fashion(root / "FashionMNIST" / "raw", gz=False)
    data = fashion_mnist.make_fashion_mnist(train_size=300, val_size=100, root=str(root),
                                            download=False, seed=3)
    s = data.splits
    assert s.train_x.shape == (300, 784) and s.val_x.shape == (100, 784)
    assert s.test_x.shape == (10000, 784) and s.test_y.dtype == torch.long
    assert s.train_x.dtype == torch.float32
    # validation comes from the training pool, disjoint from the training subset: pixels 0
    # and 1 name each image
    train_ids = set(zip(s.train_x[:, 0].tolist(), s.train_x[:, 1].tolist()))
    val_ids = set(zip(s.val_x[:, 0].tolist(), s.val_x[:, 1].tolist()))
    assert len(train_ids) == 300 and len(val_ids) == 100
    assert not train_ids & val_ids


def test_wrong_counts_are_rejected(tmp_path, no_system_copy):
    root = tmp_path / "root"
    write_fake_fashion(root, gz=False)
    stem = fashion_mnist.FILES["test_labels"][0]
    (root / stem).write_bytes(idx_bytes(np.arange(500) % 10))
    with pytest.raises(DataError, match="expected 10000 labels"):
        fashion_mnist.load_raw(str(root))


def test_missing_data_lists_where_it_looked(tmp_path, no_system_copy):
    with pytest.raises(DataError) as err:
        fashion_mnist.make_fashion_mnist(root=str(tmp_path), download=False)
    message = str(err.value)
    assert str(tmp_path) in message and "no-debian" in message
    assert "data.root" in message and "apt-get install dataset-fashion-mnist" in message


def test_root_that_is_not_a_directory(tmp_path):
    with pytest.raises(ConfigError, match="data.root"):
        fashion_mnist.make_fashion_mnist(root=str(tmp_path / "nowhere"))


def test_real_data_is_found_and_valid(needs_fashion_mnist):
    raw = fashion_mnist.load_raw()
    assert raw["train_images"].shape == (60000, 28, 28)
    assert sorted(raw["test_labels"].unique().tolist()) == list(range(10))


def test_splits_and_label_noise_on_real_data(needs_fashion_mnist):
    clean = fashion_mnist.make_fashion_mnist(train_size=2000, val_size=1000, seed=5)
    noisy = fashion_mnist.make_fashion_mnist(train_size=2000, val_size=1000, seed=5,
                                             label_noise=0.4)
    assert torch.equal(clean.splits.train_x, noisy.splits.train_x)
    changed = clean.splits.train_y != noisy.splits.train_y
    assert 0.3 < changed.float().mean().item() < 0.4  # 40% replaced, a tenth by their own class
    assert torch.equal(noisy.splits.train_corrupted, changed)
    assert clean.splits.train_corrupted is None
    assert torch.equal(clean.splits.val_y, noisy.splits.val_y)
    assert torch.equal(clean.splits.test_y, noisy.splits.test_y)
    with pytest.raises(ConfigError, match="data.train_size"):
        fashion_mnist.make_fashion_mnist(train_size=59001, val_size=1000)


def validation_rows(seed: int, **folds) -> set[bytes]:
    """The validation images of a split of the real pool, each as its bytes."""
    data = fashion_mnist.make_fashion_mnist(train_size=5000, val_size=1000, seed=seed, **folds)
    return {row.numpy().tobytes() for row in data.splits.val_x}


@pytest.mark.parametrize("folds", [{}, {"folds": 5}], ids=["held_out", "k_fold"])
def test_the_seed_chooses_the_validation_rows(needs_fashion_mnist, folds):
    """1000 of 60000 images: two independent draws share about 17 (a handful of the real
    pool's images are duplicates, so sets of bytes are compared)."""
    first, again, other = (validation_rows(seed, **folds) for seed in (1, 1, 2))
    assert first == again
    assert len(first) > 900 and len(first & other) < 100


def test_tiny_real_run(tmp_path, needs_fashion_mnist):
    summary = run_config(tmp_path, ["data=fashion_mnist", "model=mlp", "data.train_size=500",
                                    "data.val_size=500", "trainer.max_epochs=1"])
    assert summary["status"] == "completed"
    assert summary["test_acc"] > 0.5  # ten classes: chance is 0.1
    assert {"val_acc", "gap_acc", "train_acc"} <= set(summary)


def test_training_accuracy_splits_into_kept_and_changed_labels(tmp_path, needs_fashion_mnist):
    """acc/train is the row-weighted mean of acc/train_clean and acc/train_corrupted: the same
    500 rows, counted in two parts (all are evaluated: 500 < the test set's 10,000)."""
    noisy = ["data=fashion_mnist", "model=mlp", "data.train_size=500", "data.val_size=500",
             "data.label_noise=0.4", "trainer.max_epochs=2", "seed=0"]
    summary = run_config(tmp_path, noisy)
    corrupted = fashion_mnist.make_fashion_mnist(train_size=500, val_size=500, seed=0,
                                                 label_noise=0.4).splits.train_corrupted
    changed = corrupted.sum().item()
    weighted = ((500 - changed) * summary["train_clean_acc"]
                + changed * summary["train_corrupted_acc"]) / 500
    assert abs(weighted - summary["train_acc"]) < 1e-6
    assert summary["train_clean_acc"] > summary["train_corrupted_acc"]
    clean = run_config(tmp_path / "clean", noisy[:4] + ["trainer.max_epochs=1"])
    assert "train_corrupted_acc" not in clean and "train_clean_acc" not in clean
