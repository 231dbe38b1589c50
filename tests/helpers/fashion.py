"""Fashion-MNIST's IDX files written by the tests: the real counts and shapes, made-up pixels."""

import gzip

import numpy as np

from wdbench.data import fashion_mnist


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 8, array.ndim]) + b"".join(
        int(n).to_bytes(4, "big") for n in array.shape
    )
    return header + array.astype(np.uint8).tobytes()


def write_fake_fashion(directory, gz: bool, images_value: int = 0):
    """Four IDX files with the real counts and shapes (labels cycle through 0-9)."""
    directory.mkdir(parents=True, exist_ok=True)
    for key, (stem, count) in fashion_mnist.FILES.items():
        if key.endswith("images"):
            array = np.full((count, 28, 28), images_value, dtype=np.uint8)
            array[:, 0, 0] = np.arange(count) % 256  # every row its own (pixel 0, pixel 1),
            array[:, 0, 1] = np.arange(count) // 256  # so subsets can be checked
        else:
            array = np.arange(count) % 10
        data = idx_bytes(array)
        if gz:
            (directory / f"{stem}.gz").write_bytes(gzip.compress(data, compresslevel=1))
        else:
            (directory / stem).write_bytes(data)
