"""In-memory batching: the whole data set lives as tensors (on the GPU when there is one);
a batch is an index slice. No per-sample Dataset, no collate, no PIL: for models this small,
those would cost more than the model's own compute."""

import math

import pytorch_lightning as pl
import torch

from wdbench.config.checks import check_count
from wdbench.data.splits import Splits

# Rows per Lightning batch (a block of minibatches): all of Fashion-MNIST's training set is one
# block, so Lightning's per-batch work is paid once an epoch. One minibatch per block when the
# batch is larger. TensorDataModule.block_rows = the
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
    about `block_rows` rows (whole minibatches): Lightning's own work per batch is as much as a
    linear model's whole training step, so it is paid once per block.
    The minibatches, their order and their contents are those of a plain per-minibatch loop."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, batch_size: int, seed: int,
                 block_rows: int = BLOCK_ROWS, rank: int = 0, world_size: int = 1):
        self.x, self.y = x, y
        self.batch_size = batch_size
        self.minibatches_per_block = max(1, block_rows // batch_size)
        self.sampler = EpochShuffle(seed)
        self.rank, self.world_size = rank, world_size
        self.batches_yielded = 0
        self._resume: dict | None = None

    def share(self) -> int:
        """Rows per rank: under DDP each rank takes its own slice of the same seeded
        permutation, as DistributedSampler(drop_last=True) does (disjoint, equal steps)."""
        return len(self.x) // self.world_size if self.world_size > 1 else len(self.x)

    def __len__(self) -> int:
        return math.ceil(math.ceil(self.share() / self.batch_size) / self.minibatches_per_block)

    def __iter__(self):
        # A generator: this body runs at the first batch, after Lightning's set_epoch.
        order = self.sampler.order(len(self.x)).to(self.x.device)
        if self.world_size > 1:
            order = order[: self.share() * self.world_size][self.rank :: self.world_size]
        skip = self.resume_position()
        self.batches_yielded = skip
        rows = self.minibatches_per_block * self.batch_size
        for start in range(skip * rows, len(order), rows):
            self.batches_yielded += 1
            yield MinibatchBlock(self.x, self.y, order[start : start + rows], self.batch_size)

    def resume_position(self) -> int:
        """Batches to skip: those already trained in this epoch before the checkpoint."""
        resume, self._resume = self._resume, None
        if resume and resume["epoch"] == self.sampler.epoch:
            return resume["batches_yielded"]
        return 0

    def state_dict(self) -> dict:
        return {"epoch": self.sampler.epoch, "batches_yielded": self.batches_yielded}

    def load_state_dict(self, state_dict: dict) -> None:
        self._resume = dict(state_dict)


class TensorDataModule(pl.LightningDataModule):
    """Holds a run's splits; moves them to the trainer's device once, at setup."""

    def __init__(self, splits: Splits, batch_size: int, seed: int):
        super().__init__()
        self.splits = splits
        self.batch_size = check_count("data.batch_size", batch_size, 1, 10**9)
        self.seed = seed
        self.block_rows = BLOCK_ROWS
        self._eval_sets: dict = {}

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
        self._eval_sets = {}

    def train_dataloader(self) -> TensorBatches:
        rank, world = (self.trainer.global_rank, self.trainer.world_size) if self.trainer else (0, 1)
        # Under DDP each Lightning batch must be one forward and backward: one minibatch a block.
        block_rows = self.block_rows if world == 1 else 1
        return TensorBatches(self.splits.train_x, self.splits.train_y, self.batch_size, self.seed,
                             block_rows, rank, world)

    def eval_sets(self, rows: int | None = None) -> dict:
        """The splits evaluated every epoch, all through the same code path. `train` is the
        training set, or a fixed subset the size of the test set when it is larger (DeepOBS):
        its first rows, which are a seeded random subset because the training rows are stored
        in a seeded random order (drawn from a shuffled pool, or i.i.d.). With label noise, those
        training rows also as `train_clean` and `train_corrupted`. `rows`: at most this many
        rows of each split, its first (None: all). Views, not copies, but for the two label-noise
        parts: the data is held once."""
        if rows not in self._eval_sets:
            s = self.splits
            count = min(len(s.train_x), len(s.test_x))
            sets = {"train": (s.train_x[:count], s.train_y[:count])}
            if len(s.val_x):
                sets["val"] = (s.val_x, s.val_y)
            sets["test"] = (s.test_x, s.test_y)
            chosen = {split: (x[:rows], y[:rows]) for split, (x, y) in sets.items()}
            corrupted = s.train_corrupted
            if corrupted is not None:
                chosen.update(by_label_noise(*chosen["train"], corrupted[:count][:rows]))
            self._eval_sets[rows] = chosen
        return self._eval_sets[rows]


def by_label_noise(x: torch.Tensor, y: torch.Tensor, corrupted: torch.Tensor) -> dict:
    """The evaluated training rows whose label the noise kept, and those it changed: how well a
    model fits the right labels, apart from how many wrong ones it memorises. A part with no
    row is left out (its mean would be NaN, which reads as divergence)."""
    parts = {"train_clean": ~corrupted, "train_corrupted": corrupted}
    return {split: (x[mask], y[mask]) for split, mask in parts.items() if mask.any()}
