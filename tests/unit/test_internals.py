"""The private parts of Lightning, TensorBoard, Hydra, OmegaConf and torch that wdbench uses
(wdbench/internals.py), against the real libraries: an upgrade that moves them fails here first."""

import ast
from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.plugins.launcher import Launcher
from omegaconf import OmegaConf
from pytorch_lightning.loggers import TensorBoardLogger
from tensorboard.compat.proto.summary_pb2 import Summary

import wdbench
from tests.helpers.tb import read_events
from wdbench.internals import (
    add_summary,
    basic_launcher,
    copy_tensors,
    count_optimizer_steps,
    event_file_writer,
    full_key,
    overrides_dirname,
    strategy_timeout,
    subtract_tensors,
    sweep_cross_product,
)


class StepsByHand(pl.LightningModule):
    """Manual optimization that steps the optimizer itself, `per_batch` times a batch, as
    RegularizedModule's minibatch loop does."""

    def __init__(self, per_batch: int):
        super().__init__()
        self.automatic_optimization = False
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.per_batch = per_batch

    def training_step(self, batch, batch_idx):
        optimizer = self.optimizers().optimizer
        for _ in range(self.per_batch):
            (self.weight - 1).pow(2).sum().backward()
            optimizer.step()
            optimizer.zero_grad()
        count_optimizer_steps(self.trainer, self.per_batch)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)

    def train_dataloader(self):
        return torch.utils.data.DataLoader(torch.zeros(4, 1), batch_size=1)


def test_counted_steps_are_lightnings_global_step_and_stop_max_steps(tmp_path):
    trainer = pl.Trainer(max_epochs=10, max_steps=9, logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False,
                         default_root_dir=tmp_path)
    module = StepsByHand(per_batch=3)
    trainer.fit(module)
    assert trainer.global_step == 9  # 3 batches of 3 steps, then max_steps stopped it
    # SGD on (w - 1)^2 with lr 0.1: w <- 0.8 w + 0.2, so after n steps from 0, w = 1 - 0.8^n
    # (float32 rounding over nine steps stays far below 1e-6)
    assert module.weight.item() == pytest.approx(1 - 0.8**9, abs=1e-6)


def test_a_whole_summary_lands_as_one_event_in_the_loggers_file(tmp_path):
    logger = TensorBoardLogger(str(tmp_path), name="", version="")
    values = [Summary.Value(tag=f"loss/{split}", simple_value=v)
              for split, v in (("train", 1.5), ("test", 2.5))]
    assert add_summary(logger.experiment, Summary(value=values), step=7)
    logger.finalize("success")
    events = read_events(tmp_path)
    assert [(e.step, e.value) for e in events.Scalars("loss/test")] == [(7, 2.5)]
    assert [(e.step, e.value) for e in events.Scalars("loss/train")] == [(7, 1.5)]


def test_anything_but_a_summary_writer_has_no_event_file():
    assert event_file_writer(object()) is None
    assert not add_summary(None, Summary(), step=0)


def test_the_basic_sweepers_cross_product_keeps_fixed_values_in_every_job():
    overrides = OverridesParser.create().parse_overrides(["a=1,2", "b=x", "c=3,4,5"])
    jobs = sweep_cross_product(overrides)
    assert len(jobs) == 6
    assert sorted(jobs) == sorted([f"a={a}", "b=x", f"c={c}"] for a in (1, 2) for c in (3, 4, 5))


def test_overrides_dirname_is_hydras_sorted_and_filtered_join():
    """Hydra's rule: the lines sorted, the excluded keys left out, joined by item_sep, each `=`
    replaced by kv_sep."""
    overrides = OverridesParser.create().parse_overrides(["seed=1", "experiment=x", "a.b=2"])
    config = OmegaConf.create({"kv_sep": ":", "item_sep": "/", "exclude_keys": ["experiment"]})
    assert overrides_dirname(overrides, config) == "a.b:2/seed:1"


def test_the_basic_launcher_is_a_launcher_with_its_launch():
    assert issubclass(basic_launcher(), Launcher)
    assert "launch" in vars(basic_launcher())  # its own, not the abstract one


def test_full_key_is_the_dotted_path_from_the_root():
    cfg = OmegaConf.create({"model": {"mlp": {"hidden": [3]}}})
    assert full_key(cfg.model.mlp) == "model.mlp"
    assert full_key(cfg) == ""


def test_fused_copy_and_subtract_act_on_every_tensor():
    targets = [torch.zeros(2), torch.zeros(3, 1)]
    sources = [torch.tensor([1.0, 2.0]), torch.full((3, 1), 4.0)]
    copy_tensors(targets, sources)
    assert [t.tolist() for t in targets] == [s.tolist() for s in sources]
    subtract_tensors(targets, [torch.ones(2), torch.ones(3, 1)])
    assert targets[0].tolist() == [0.0, 1.0] and targets[1].flatten().tolist() == [3.0] * 3


HYDRA_KEYS = {"_target_", "_recursive_", "_convert_", "_partial_", "_args_"}


def private_uses(path: Path) -> list[str]:
    """`x._name` (not on self or cls, not one of Hydra's public keys such as `_target_`) and
    imports of a `_private` module or name, as `file:line code`."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute):
            name, base = node.attr, node.value
            private = name.startswith("_") and not name.startswith("__") and name not in HYDRA_KEYS
            if private and not (isinstance(base, ast.Name) and base.id in ("self", "cls")):
                found.append(f"{path}:{node.lineno} {ast.unparse(node)}")
        if isinstance(node, ast.ImportFrom) and node.module:
            names = node.module.split(".") + [alias.name for alias in node.names]
            if any(n.startswith("_") and not n.startswith("__") for n in names):
                found.append(f"{path}:{node.lineno} from {node.module}")
    return found


def test_no_private_api_is_used_outside_internals():
    package = Path(wdbench.__file__).parent
    files = [p for p in sorted(package.rglob("*.py")) if p.name != "internals.py"]
    assert len(files) > 20
    assert [use for p in files for use in private_uses(p)] == []
    held = " ".join(private_uses(package / "internals.py"))  # the check sees what is held there
    for use in ("hydra._internal", "_get_full_key", "torch._foreach_copy_", "torch._foreach_sub_",
                "_timeout"):
        assert use in held


def test_a_ddp_strategys_timeout_is_read_back():
    from datetime import timedelta

    from pytorch_lightning.strategies import DDPStrategy

    assert strategy_timeout(DDPStrategy(timeout=timedelta(seconds=7))) == 7
    assert strategy_timeout(object()) is None
