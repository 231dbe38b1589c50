"""Checks made at start-up, before any training: the values no constructor sees in time (the
optimizer is built inside fit), settings of the run itself, and combinations that make no
sense. Each failure is a ConfigError naming the key, the bad value and what is allowed."""

import inspect
import math
import re

import torch
from hydra.utils import get_object
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning import Trainer

from wdbench.config.checks import is_count, is_integer, is_number
from wdbench.config.messages import nearest_key
from wdbench.errors import ConfigError, WdbenchError
from wdbench.internals import full_key

MAX_SEED = 2**32 - 1  # Lightning's seed_everything silently replaces larger or negative seeds
UNEXPECTED_KEYWORD = re.compile(r"unexpected keyword argument '(\w+)'")


def check_run_settings(cfg: DictConfig) -> None:
    seed = cfg.seed
    if not is_integer(seed) or not 0 <= seed <= MAX_SEED:
        raise ConfigError("seed", seed, f"an integer in [0, {MAX_SEED}]")
    epochs = cfg.trainer.get("max_epochs")
    if not is_count(epochs):
        raise ConfigError("trainer.max_epochs", epochs, "an integer >= 1")
    check_metrics(cfg.metrics)


def check_metrics(metrics: DictConfig) -> None:
    if not is_count(metrics.every_n_epochs):
        raise ConfigError("metrics.every_n_epochs", metrics.every_n_epochs, "a positive integer")
    if metrics.eval_rows is not None and not is_count(metrics.eval_rows):
        raise ConfigError("metrics.eval_rows", metrics.eval_rows,
                          "a positive integer or null (every row)")
    if not is_count(metrics.get("angle_every_n_steps", 1)):
        raise ConfigError("metrics.angle_every_n_steps", metrics.angle_every_n_steps,
                          "a positive integer (1 = every step)")
    if not isinstance(metrics.get("grad_norms", False), bool):
        raise ConfigError("metrics.grad_norms", metrics.grad_norms, "true or false")
    if not isinstance(metrics.figure, bool):
        raise ConfigError("metrics.figure", metrics.figure, "true or false")
    span_rows = metrics.get("span_rows")
    if span_rows is not None and not is_count(span_rows):
        raise ConfigError("metrics.span_rows", span_rows, "a positive integer, or null for always")


def check_optimizer(node: DictConfig, make_optimizer) -> None:
    """The optimizer is a partial that Lightning calls inside fit: build a throwaway one now, so
    a bad value stops the run at start-up, not after the data is loaded and training began."""
    lr = node.get("lr")
    if not is_number(lr) or not 0 < lr < math.inf:
        raise ConfigError("optimizer.lr", lr, "a number > 0")
    momentum = node.get("momentum", 0.0)
    if not is_number(momentum) or not 0 <= momentum < 1:
        raise ConfigError("optimizer.momentum", momentum, "a number in [0, 1)")
    betas = OmegaConf.to_object(node.betas) if "betas" in node else [0.0, 0.0]
    if (not isinstance(betas, list) or len(betas) != 2
            or not all(is_number(b) and 0 <= b < 1 for b in betas)):
        raise ConfigError("optimizer.betas", betas, "two numbers in [0, 1), e.g. [0.9, 0.999]")
    decay = node.get("weight_decay", 0)
    if decay != 0:
        # The regulariser's parameter groups set weight_decay per group, so this value would be
        # silently replaced: decay is the regulariser's job.
        raise ConfigError("optimizer.weight_decay", decay, "0 (decay is set by the regulariser: "
                          "regularizer=weight_decay regularizer.strength=LAMBDA)")
    try:
        make_optimizer([torch.nn.Parameter(torch.zeros(1))])
    except TypeError as err:
        raise explain_type_error(err, node) from None
    except ValueError as err:  # torch's own range checks (eps, ...)
        raise WdbenchError(f"optimizer: {err}") from None


def explain_type_error(err: TypeError, node: DictConfig, passed: set = frozenset()) -> Exception:
    """`+model.hiden=3` reaches the constructor as an unknown keyword: name it and list the
    keys the target takes. Any other TypeError is a bug and keeps its traceback."""
    match = UNEXPECTED_KEYWORD.search(str(err))
    if not match or "_target_" not in node:
        return err
    key = match.group(1)
    parameters = inspect.signature(get_object(node._target_)).parameters
    hidden = {"self", "params", "args", "kwargs", *passed}  # what wdbench itself passes
    known = [p for p in parameters if p not in hidden]
    prefix = full_key(node)
    dotted = f"{prefix}.{key}" if prefix else key
    allowed = f"the keys of {node._target_}: {', '.join(known)}"
    nearest = nearest_key(dotted, known)
    if nearest:
        allowed += f" (did you mean {nearest}, without the +?)"
    return ConfigError(dotted, node.get(key), allowed)


def explain_trainer_error(err: Exception, trainer_cfg: DictConfig) -> Exception:
    match = UNEXPECTED_KEYWORD.search(str(err))
    if isinstance(err, TypeError) and match:
        key = match.group(1)
        nearest = nearest_key(f"trainer.{key}", inspect.signature(Trainer).parameters)
        hint = f" (did you mean {nearest}, without the +?)" if nearest else ""
        return ConfigError(f"trainer.{key}", trainer_cfg.get(key),
                           "the keyword arguments of Lightning's Trainer (max_epochs, accelerator, "
                           f"devices, precision, ...){hint}")
    if isinstance(err, TypeError):
        return err
    accelerator = str(trainer_cfg.get("accelerator", "auto"))
    usable = usable_accelerators()
    if accelerator not in usable:  # Lightning's "No supported gpu backend found!" says no more
        missing = f" (no {accelerator} found here; auto uses one where there is one)" \
            if accelerator in ("gpu", "cuda", "mps") else ""
        return ConfigError("trainer.accelerator", accelerator,
                           f"{', '.join(usable)} on this machine{missing}")
    return WdbenchError(f"trainer: {err}")


def usable_accelerators() -> list[str]:
    """The `trainer.accelerator` values that work on this machine."""
    usable = ["auto", "cpu"]
    if torch.cuda.is_available():
        usable += ["gpu", "cuda"]
    if torch.backends.mps.is_available():
        usable += ["gpu", "mps"]
    return usable
