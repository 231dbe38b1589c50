"""The three training paths scripts/benchmark.py times on the same data, model, batch size and
threads: (a) a plain PyTorch loop, (b) wdbench's own training path, (c) the common approach."""

import gzip
import itertools
import shutil
import statistics
import time
from contextlib import contextmanager
from pathlib import Path

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from hydra import compose, initialize_config_dir
from pytorch_lightning.loggers import TensorBoardLogger
from torch import nn

from wdbench.config.compose import CONF_DIR
from wdbench.data.fashion_mnist import FILES, locate
from wdbench.training import train

HIDDEN = {"linear": [], "mlp": [256]}
LR = 0.1  # conf/optimizer/sgd.yaml, wdbench's default


def make_model(kind: str, flatten: bool = False) -> nn.Module:
    return mlp([784, *HIDDEN[kind], 10], flatten)


def mlp(widths: list[int], flatten: bool = False) -> nn.Sequential:
    """Linear layers of these widths with a ReLU between each two."""
    layers: list[nn.Module] = [nn.Flatten()] if flatten else []
    for width_in, width_out in itertools.pairwise(widths):
        layers += [nn.Linear(width_in, width_out), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


class EpochClock(pl.Callback):
    """Whole epochs as a user waits for them: from one epoch's start to the next (the training
    steps, the per-epoch metrics and logging, Lightning's bookkeeping), the last one to the
    end of training. Epoch 0's metrics, before the first epoch, are start-up, not an epoch."""

    def __init__(self):
        self.stamps: list[float] = []
        self.epoch_metrics = None

    def on_train_epoch_start(self, trainer, module) -> None:
        self.stamps.append(time.perf_counter())

    def on_train_end(self, trainer, module) -> None:
        self.stamps.append(time.perf_counter())
        self.epoch_metrics = next((c for c in trainer.callbacks if hasattr(c, "metric_seconds")),
                                  None)

    def epochs(self) -> list[float]:
        return [end - start for start, end in itertools.pairwise(self.stamps)]


# (a) ------------------------------------------------------------------------------------------
def plain_epochs(kind: str, x: torch.Tensor, y: torch.Tensor, batch_size: int, epochs: int,
                 seed: int = 0) -> list[float]:
    """The reference: the loop anyone would write over tensors already in memory."""
    torch.manual_seed(seed)
    model = make_model(kind)
    optimizer = torch.optim.SGD(model.parameters(), lr=LR)
    seconds = []
    for epoch in range(epochs):
        started = time.perf_counter()
        order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed + epoch))
        for start in range(0, len(x), batch_size):
            index = order[start : start + batch_size]
            loss = F.cross_entropy(model(x[index]), y[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        seconds.append(time.perf_counter() - started)
    return seconds


# (b) ------------------------------------------------------------------------------------------
def wdbench_overrides(kind: str, batch_size: int, epochs: int, train_size, threads: int,
                      metrics_every: int = 1):
    overrides = ["data=fashion_mnist", f"model={kind}", f"data.batch_size={batch_size}",
                 f"data.train_size={'null' if train_size is None else train_size}",
                 f"trainer.max_epochs={epochs}", f"threads={threads}"]
    return overrides + ([f"metrics.every_n_epochs={metrics_every}"] if metrics_every > 1 else [])


@contextmanager
def extra_callback(callback: pl.Callback):
    """train.run builds its own Trainer; add the clock to its callbacks, nothing else."""
    original = train.make_trainer

    def make_trainer(trainer_cfg, logger, callbacks, root_dir, *rest):
        return original(trainer_cfg, logger, [*callbacks, callback], root_dir, *rest)

    train.make_trainer = make_trainer
    try:
        yield
    finally:
        train.make_trainer = original


def wdbench_epochs(overrides: list[str], run_dir: Path) -> dict:
    """What `python -m wdbench OVERRIDES` runs (the real config tree, train.run with its
    default metrics, TensorBoard events, history, checkpoint and summary), epoch by epoch."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=overrides)
    clock = EpochClock()
    with extra_callback(clock):
        summary = train.run(cfg, run_dir, overrides)
    metrics, epochs = clock.epoch_metrics, clock.epochs()
    # Steady epochs: not the last, which evaluates every row (metrics.eval_rows caps the others)
    # and holds the end of training (histograms, HParams, the figure): a cost once per run.
    # metric_seconds[0] is epoch 0, before training.
    return {"epochs": epochs[:-1] or epochs, "last": epochs[-1:],
            "train": metrics.train_seconds[:-1] or metrics.train_seconds,
            "metrics": metrics.metric_seconds[1:-1] or metrics.metric_seconds[1:],
            "summary": summary}


# (c) ------------------------------------------------------------------------------------------
def torchvision_root(directory: Path) -> Path:
    """The four IDX files decompressed into ROOT/FashionMNIST/raw/, where torchvision's
    FashionMNIST finds them without downloading."""
    raw = directory / "FashionMNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for key, path in locate(None, download=False).items():
        target = raw / FILES[key][0]
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as source, open(target, "wb") as out:
            shutil.copyfileobj(source, out)
    return directory


def common_dataset(root: Path, train_index: torch.Tensor):
    from torchvision import datasets, transforms

    full = datasets.FashionMNIST(str(root), train=True, transform=transforms.ToTensor())
    return torch.utils.data.Subset(full, train_index.tolist())


class MinimalModule(pl.LightningModule):
    """The tutorial's LightningModule: a loss, one self.log, an optimizer."""

    def __init__(self, kind: str):
        super().__init__()
        self.model = make_model(kind, flatten=True)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self.model(x), y)
        self.log("train_loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=LR)


def common_epochs(kind: str, dataset, batch_size: int, epochs: int, log_dir: Path) -> list[float]:
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True)
    clock = EpochClock()
    trainer = pl.Trainer(max_epochs=epochs, accelerator="cpu", devices=1, callbacks=[clock],
                         logger=TensorBoardLogger(str(log_dir)), enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(MinimalModule(kind), train_dataloaders=loader)
    return clock.epochs()


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")
