"""Real Fashion-MNIST from IDX files: `data.root`, then Debian's dataset-fashion-mnist,
then torchvision's download. Read once into uint8 tensors; only the chosen splits become float."""

import functools
from pathlib import Path

import torch

from wdbench.config.checks import check_fraction
from wdbench.data.idx import check_images, check_labels, read_idx
from wdbench.data.loader import TensorDataModule
from wdbench.data.splits import Splits, add_label_noise, changed_rows, choose_train_val
from wdbench.errors import ConfigError, DataError

DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
DOWNLOAD_DIR = Path.home() / ".cache" / "wdbench"
FILES = {
    "train_images": ("train-images-idx3-ubyte", 60000),
    "train_labels": ("train-labels-idx1-ubyte", 60000),
    "test_images": ("t10k-images-idx3-ubyte", 10000),
    "test_labels": ("t10k-labels-idx1-ubyte", 10000),
}
NUM_CLASSES = 10


def candidate_dirs(root) -> list[Path]:
    """Where to look, in order. A root may hold the files or torchvision's layout."""
    roots = [Path(root).expanduser()] if root else []
    roots += [DEBIAN_DIR, DOWNLOAD_DIR]
    dirs = []
    for base in roots:
        dirs += [base, base / "FashionMNIST" / "raw"]
    return dirs


def find_file(directory: Path, stem: str):
    for name in (stem, stem + ".gz"):
        if (directory / name).is_file():
            return directory / name
    return None


def locate(root, download: bool) -> dict[str, Path]:
    if root and not Path(root).expanduser().is_dir():
        raise ConfigError("data.root", root, "an existing directory (or null)")
    searched = candidate_dirs(root)
    for directory in searched:
        found = {key: find_file(directory, stem) for key, (stem, _) in FILES.items()}
        if all(found.values()):
            return found
    if download:
        target = Path(root).expanduser() if root else DOWNLOAD_DIR
        if try_download(target):
            return locate(root, download=False)
    raise DataError(
        "Fashion-MNIST not found. Looked in: "
        + ", ".join(str(d) for d in searched)
        + ("; the download through torchvision failed" if download else "; download is off")
        + ". Remedies: set data.root=DIR to a folder holding the four IDX files, or install "
        "Debian's package: apt-get install dataset-fashion-mnist"
    )


def try_download(target: Path) -> bool:
    import torchvision  # imported here: only this rare path needs it

    try:
        torchvision.datasets.FashionMNIST(str(target), train=True, download=True)
        torchvision.datasets.FashionMNIST(str(target), train=False, download=True)
        return True
    except Exception as err:  # noqa: BLE001  no network, proxy, checksum: reported with the search list
        print(f"[wdbench] Fashion-MNIST download into {target} failed: {err}")
        return False


def load_raw(root=None, download: bool = False) -> dict[str, torch.Tensor]:
    """The four arrays as uint8 tensors, each checked against what Fashion-MNIST must be.
    Callers copy what they use (subsets, float features) and never change these."""
    paths = locate(root, download)
    return read_checked(tuple(sorted((key, path, file_identity(path)) for key, path in paths.items())))


def file_identity(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


@functools.lru_cache(maxsize=1)
def read_checked(files: tuple) -> dict[str, torch.Tensor]:
    """Read once per process (files are keyed by path, size and mtime): the jobs of an in-process
    sweep skip the decompressing, and the uint8 arrays are held once."""
    arrays = {key: read_idx(path) for key, path, _ in files}
    for key, path, _ in files:
        check = check_images if key.endswith("images") else check_labels
        check(arrays[key], FILES[key][1], path)
    return arrays


@functools.lru_cache(maxsize=1)
def pixel_stats(images: torch.Tensor) -> tuple[float, float]:
    """Mean and std of the whole training pool in [0, 1] units, from a 256-bin histogram so no
    float copy of the pool is made. Fixed across subsets, so every run standardises alike; once
    per process, keyed by the pool itself (the tensor read_checked holds, by identity)."""
    counts = torch.bincount(images.flatten(), minlength=256).double()
    values = torch.arange(256, dtype=torch.float64) / 255
    mean = (counts * values).sum() / counts.sum()
    var = (counts * (values - mean) ** 2).sum() / counts.sum()
    return mean.item(), var.sqrt().item()


def to_features(images: torch.Tensor, mean: float, std: float) -> torch.Tensor:
    return images.reshape(len(images), -1).float().div_(255).sub_(mean).div_(std)


def make_fashion_mnist(
    batch_size: int = 256,
    train_size=None,
    val_size: int = 5000,
    label_noise: float = 0.0,
    root=None,
    download: bool = True,
    folds=None,
    fold: int = 0,
    seed: int = 0,
) -> TensorDataModule:
    label_noise = check_fraction("data.label_noise", label_noise)
    if root is not None and not isinstance(root, (str, Path)):
        raise ConfigError("data.root", root, "a directory path, or null")
    if not isinstance(download, bool):
        raise ConfigError("data.download", download, "true or false")
    raw = load_raw(root, download)
    pool_x, pool_y = raw["train_images"], raw["train_labels"].long()
    train_index, val_index = choose_train_val(len(pool_x), train_size, val_size, seed, folds, fold)
    mean, std = pixel_stats(pool_x)
    train_y = add_label_noise(pool_y[train_index], label_noise, NUM_CLASSES, seed)
    splits = Splits(
        train_x=to_features(pool_x[train_index], mean, std),
        train_y=train_y,
        val_x=to_features(pool_x[val_index], mean, std),
        val_y=pool_y[val_index],
        test_x=to_features(raw["test_images"], mean, std),
        test_y=raw["test_labels"].long(),
        task="classification",
        num_outputs=NUM_CLASSES,
        train_corrupted=changed_rows(pool_y[train_index], train_y),
    )
    return TensorDataModule(splits, batch_size, seed)
