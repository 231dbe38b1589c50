"""In-memory batching: the whole data set lives as tensors (on the GPU when there is one);
a batch is an index slice. No per-sample Dataset, no collate, no PIL (design.md section 4)."""

import math

import pytorch_lightning as pl
import torch

from wdbench.data.splits import Splits, check_count


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


class TensorBatches:
    """An iterable of (x, y) minibatches that Lightning's fit loop accepts like a DataLoader.
    Under DDP (world_size > 1) each rank takes its own slice of the same seeded permutation,
    as DistributedSampler(drop_last=True) does: disjoint shares, equal step counts."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, batch_size: int, seed: int,
                 rank: int = 0, world_size: int = 1):
        self.x, self.y = x, y
        self.batch_size = batch_size
        self.sampler = EpochShuffle(seed)
        self.rank, self.world_size = rank, world_size

    def share(self) -> int:
        return len(self.x) // self.world_size if self.world_size > 1 else len(self.x)

    def __len__(self) -> int:
        return math.ceil(self.share() / self.batch_size)

    def __iter__(self):
        order = self.sampler.order(len(self.x)).to(self.x.device)
        if self.world_size > 1:
            order = order[: self.share() * self.world_size][self.rank :: self.world_size]
        for start in range(0, len(order), self.batch_size):
            index = order[start : start + self.batch_size]
            yield self.x[index], self.y[index]


class TensorDataModule(pl.LightningDataModule):
    """Holds a run's splits; moves them to the trainer's device once, at setup."""

    def __init__(self, splits: Splits, batch_size: int, seed: int):
        super().__init__()
        self.splits = splits
        self.batch_size = check_count("data.batch_size", batch_size, 1, 10**9)
        self.seed = seed
        self.train_eval_index = train_eval_subset(len(splits.train_x), len(splits.test_x), seed)
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
        self.train_eval_index = self.train_eval_index.to(device)
        self._eval_sets = None

    def train_dataloader(self) -> TensorBatches:
        rank, world = (self.trainer.global_rank, self.trainer.world_size) if self.trainer else (0, 1)
        return TensorBatches(self.splits.train_x, self.splits.train_y, self.batch_size, self.seed,
                             rank, world)

    def eval_sets(self) -> dict:
        """The splits evaluated every epoch, all through the same code path. `train` is the
        training set, or a fixed subset the size of the test set when it is larger (DeepOBS)."""
        if self._eval_sets is not None:
            return self._eval_sets
        s = self.splits
        sets = {"train": (s.train_x[self.train_eval_index], s.train_y[self.train_eval_index])}
        if len(s.val_x):
            sets["val"] = (s.val_x, s.val_y)
        sets["test"] = (s.test_x, s.test_y)
        self._eval_sets = sets
        return sets


def train_eval_subset(train_count: int, test_count: int, seed: int) -> torch.Tensor:
    if train_count <= test_count:
        return torch.arange(train_count)
    gen = torch.Generator().manual_seed(seed + 31337)
    return torch.randperm(train_count, generator=gen)[:test_count].sort().values
