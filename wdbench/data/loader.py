"""In-memory batching: the whole data set lives as tensors (on the GPU when there is one);
a batch is an index slice. No per-sample Dataset, no collate, no PIL (design.md section 4)."""

import math

import pytorch_lightning as pl
import torch

from wdbench.data.splits import Splits, check_count

# Rows per Lightning batch (a block of minibatches): all of Fashion-MNIST's training set is one
# block. A block costs Lightning about 0.7 ms (measured), 7% of a linear model's time for 8,192
# rows. One minibatch per block when the batch is larger. TensorDataModule.block_rows = the
# batch size makes every minibatch a Lightning batch (per-step callbacks, finer interruption).
BLOCK_ROWS = 65536


class EpochShuffle:
    """A seeded permutation per epoch. Lightning calls `set_epoch` on a loader's `sampler`
    before every epoch, so the order depends only on (seed, epoch) and survives a resume."""

    def __init__(self, seed: int):
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def order(self, count: int) -> torch.Tensor:
        gen = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        return torch.randperm(count, generator=gen)


class MinibatchBlock:
    """Consecutive minibatches of one epoch's order, which Lightning sees as one batch. Each
    minibatch is gathered only when the training loop reaches it: small and cache-warm, and
    no copy of the whole block."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, index: torch.Tensor, batch_size: int):
        self.x, self.y, self.index = x, y, index
        self.batch_size = batch_size

    def __len__(self) -> int:
        return math.ceil(len(self.index) / self.batch_size)

    def __iter__(self):
        for start in range(0, len(self.index), self.batch_size):
            index = self.index[start : start + self.batch_size]
            yield self.x[index], self.y[index]


class TensorBatches:
    """An iterable that Lightning's fit loop accepts like a DataLoader. It yields blocks of
    about `block_rows` rows (whole minibatches): Lightning's own work per batch, about 0.2 ms,
    is as much as a linear model's whole training step, so it is paid once per block.
    The minibatches, their order and their contents are those of a plain per-minibatch loop."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, batch_size: int, seed: int,
                 block_rows: int = BLOCK_ROWS):
        self.x, self.y = x, y
        self.batch_size = batch_size
        self.minibatches_per_block = max(1, block_rows // batch_size)
        self.sampler = EpochShuffle(seed)

    def __len__(self) -> int:
        return math.ceil(math.ceil(len(self.x) / self.batch_size) / self.minibatches_per_block)

    def __iter__(self):
        order = self.sampler.order(len(self.x)).to(self.x.device)
        rows = self.minibatches_per_block * self.batch_size
        for start in range(0, len(order), rows):
            yield MinibatchBlock(self.x, self.y, order[start : start + rows], self.batch_size)


class TensorDataModule(pl.LightningDataModule):
    """Holds a run's splits; moves them to the trainer's device once, at setup."""

    def __init__(self, splits: Splits, batch_size: int, seed: int):
        super().__init__()
        self.splits = splits
        self.batch_size = check_count("data.batch_size", batch_size, 1, 10**9)
        self.seed = seed
        self.block_rows = BLOCK_ROWS
        self._eval_sets = None

    @property
    def task(self) -> str:
        return self.splits.task

    @property
    def num_features(self) -> int:
        return self.splits.num_features

    @property
    def num_outputs(self) -> int:
        return self.splits.num_outputs

    def setup(self, stage: str) -> None:
        device = self.trainer.strategy.root_device if self.trainer else torch.device("cpu")
        self.to(device)

    def to(self, device: torch.device) -> None:
        for name, value in vars(self.splits).items():
            if isinstance(value, torch.Tensor):
                setattr(self.splits, name, value.to(device))
        self._eval_sets = None

    def train_dataloader(self) -> TensorBatches:
        return TensorBatches(self.splits.train_x, self.splits.train_y, self.batch_size, self.seed,
                             self.block_rows)

    def eval_sets(self) -> dict:
        """The splits evaluated every epoch, all through the same code path. `train` is the
        training set, or a fixed subset the size of the test set when it is larger (DeepOBS):
        its first rows, which are a seeded random subset because the training rows are stored
        in a seeded random order (drawn from a shuffled pool, or i.i.d.). A view, not a copy:
        the data is held once."""
        if self._eval_sets is not None:
            return self._eval_sets
        s = self.splits
        count = min(len(s.train_x), len(s.test_x))
        sets = {"train": (s.train_x[:count], s.train_y[:count])}
        if len(s.val_x):
            sets["val"] = (s.val_x, s.val_y)
        sets["test"] = (s.test_x, s.test_y)
        self._eval_sets = sets
        return sets
