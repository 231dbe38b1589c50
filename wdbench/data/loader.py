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
    Resumable: Lightning saves `state_dict()` in checkpoints and, on a resume mid-epoch, hands
    it back, so the epoch goes on from the next batch (Lightning does not prefetch from a
    loader with a length, so batches yielded = batches trained)."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, batch_size: int, seed: int):
        self.x, self.y = x, y
        self.batch_size = batch_size
        self.sampler = EpochShuffle(seed)
        self.batches_yielded = 0
        self._resume: dict | None = None

    def __len__(self) -> int:
        return math.ceil(len(self.x) / self.batch_size)

    def __iter__(self):
        # A generator: this body runs at the first batch, after Lightning's set_epoch.
        order = self.sampler.order(len(self.x)).to(self.x.device)
        skip = self.resume_position()
        self.batches_yielded = skip
        for start in range(skip * self.batch_size, len(order), self.batch_size):
            index = order[start : start + self.batch_size]
            self.batches_yielded += 1
            yield self.x[index], self.y[index]

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
        return TensorBatches(self.splits.train_x, self.splits.train_y, self.batch_size, self.seed)

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
