"""Read and validate the IDX files Fashion-MNIST (and MNIST) ship in, plain or gzipped."""

import gzip
from pathlib import Path

import numpy as np
import torch

from wdbench.errors import DataError

# IDX magic: two zero bytes, a type code (0x08 = unsigned byte), the number of dimensions.
IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801


def read_idx(path: Path) -> torch.Tensor:
    """Return the file's array as a uint8 tensor, checking its header against its size."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as err:  # gzip raises these on truncated or non-gzip files
        raise DataError(f"cannot read {path}: {err}") from err
    if len(raw) < 4:
        raise DataError(f"{path} is not an IDX file: only {len(raw)} bytes")
    magic = int.from_bytes(raw[:4], "big")
    if magic not in (IMAGES_MAGIC, LABELS_MAGIC):
        raise DataError(f"{path} is not an unsigned-byte IDX file: magic 0x{magic:08x}")
    ndim = raw[3]
    header = 4 + 4 * ndim
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(shape))
    if len(raw) != expected:
        raise DataError(
            f"{path} is truncated or corrupt: header says shape {shape} "
            f"({expected} bytes) but the file holds {len(raw)} bytes"
        )
    array = np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)
    return torch.from_numpy(array.copy())


def check_images(images: torch.Tensor, count: int, path: Path) -> None:
    if images.ndim != 3 or tuple(images.shape[1:]) != (28, 28):
        raise DataError(f"{path}: expected 28x28 images, got shape {tuple(images.shape)}")
    if images.shape[0] != count:
        raise DataError(f"{path}: expected {count} images, got {images.shape[0]}")


def check_labels(labels: torch.Tensor, count: int, path: Path) -> None:
    if labels.ndim != 1 or labels.shape[0] != count:
        raise DataError(f"{path}: expected {count} labels, got shape {tuple(labels.shape)}")
    if labels.numel() and int(labels.max()) > 9:
        raise DataError(f"{path}: labels must be 0-9, found {int(labels.max())}")
