"""From config nodes to objects, with a WdbenchError (one clear line) for what the user can
fix: an unknown key, a target that does not import, a value a constructor refuses."""

import os

import torch
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig

from wdbench.config.validate import explain_type_error
from wdbench.errors import ConfigError, WdbenchError
from wdbench.internals import full_key


def build(node: DictConfig, **kwargs):
    """`instantiate`, except that a WdbenchError raised by the target comes out as itself
    (Hydra wraps it), so the command line can print its one clear line."""
    try:
        return instantiate(node, **kwargs)
    except InstantiationException as err:
        cause = err.__cause__
        if isinstance(cause, TypeError):  # an unknown key, e.g. +model.hiden=3
            cause = explain_type_error(cause, node, passed=set(kwargs))
        if isinstance(cause, ImportError):
            cause = ConfigError(f"{full_key(node)}._target_", node.get("_target_"),
                                "an importable class or function")
        if isinstance(cause, WdbenchError):
            raise cause from None
        raise


def set_threads(threads) -> int:
    """null = OMP_NUM_THREADS if set, else every core this process may use; parallel jobs
    pass their share (two processes each using every core oversubscribe the machine)."""
    if threads is None:
        threads = int(os.environ.get("OMP_NUM_THREADS") or len(os.sched_getaffinity(0)))
    if not isinstance(threads, int) or threads < 1:
        raise ConfigError("threads", threads, "a positive integer, or null for all cores")
    torch.set_num_threads(threads)
    return threads
