"""The process-global state a test, or the wdbench code it runs in-process, can leave behind
for the tests after it: taken before, put back after. A run sets torch's thread count and
seeds every global RNG; the command line freezes the garbage collector and sets environment
variables, and Hydra's job logging adds root handlers for a job it runs; a stop signal's
handler is installed. What a sweep did lives in objects of that sweep, never in a module
(tests/unit/test_module_state.py): nothing of it to put back."""

import gc
import logging
import os
import random
import signal
import sys
from dataclasses import dataclass

import numpy as np
import torch
from hydra.core.global_hydra import GlobalHydra

# Signals whose handler Python can read (and so put back); SIGKILL and SIGSTOP have none.
SIGNALS = [s for s in signal.valid_signals() if s not in (signal.SIGKILL, signal.SIGSTOP)]


def is_pytests(handler: logging.Handler) -> bool:
    """pytest's capture handlers come and go with each phase of a test: pytest's to manage."""
    return type(handler).__module__.startswith("_pytest")


def own_handlers(logger: logging.Logger) -> list[logging.Handler]:
    return [h for h in logger.handlers if not is_pytests(h)]


def loggers() -> dict[str, logging.Logger]:
    found = {name: logger for name, logger in logging.root.manager.loggerDict.items()
             if isinstance(logger, logging.Logger)}
    return {"": logging.root, **found}


@dataclass
class LoggerState:
    level: int
    propagate: bool
    disabled: bool
    handlers: list[logging.Handler]

    @classmethod
    def of(cls, logger: logging.Logger) -> "LoggerState":
        return cls(logger.level, logger.propagate, logger.disabled, own_handlers(logger))

    def restore(self, logger: logging.Logger) -> None:
        if logger.level != self.level:  # setLevel clears every logger's cache: hundreds here
            logger.setLevel(self.level)
        logger.propagate, logger.disabled = self.propagate, self.disabled
        for handler in own_handlers(logger):
            if handler not in self.handlers:
                logger.removeHandler(handler)
                handler.close()  # a file handler into a test's directory
        for handler in self.handlers:
            if handler not in logger.handlers:
                logger.addHandler(handler)


@dataclass
class ProcessState:
    threads: int
    dtype: torch.dtype
    grad_enabled: bool
    deterministic: tuple[bool, bool]
    matmul_precision: str
    torch_rng: torch.Tensor
    numpy_rng: tuple
    python_rng: tuple
    cwd: str
    environ: dict[str, str]
    argv: list[str]
    handlers: dict[int, object]
    logging: dict[str, LoggerState]
    hydra_initialized: bool
    gc_frozen: int


def take() -> ProcessState:
    return ProcessState(
        threads=torch.get_num_threads(),
        dtype=torch.get_default_dtype(),
        grad_enabled=torch.is_grad_enabled(),
        deterministic=(torch.are_deterministic_algorithms_enabled(),
                       torch.is_deterministic_algorithms_warn_only_enabled()),
        matmul_precision=torch.get_float32_matmul_precision(),
        torch_rng=torch.random.get_rng_state(),
        numpy_rng=np.random.get_state(),
        python_rng=random.getstate(),
        cwd=os.getcwd(),
        environ=dict(os.environ),
        argv=list(sys.argv),
        handlers={s: signal.getsignal(s) for s in SIGNALS if signal.getsignal(s) is not None},
        logging={name: LoggerState.of(logger) for name, logger in loggers().items()},
        hydra_initialized=GlobalHydra.instance().is_initialized(),
        gc_frozen=gc.get_freeze_count(),
    )


def restore(state: ProcessState) -> None:
    if torch.get_num_threads() != state.threads:
        torch.set_num_threads(state.threads)
    torch.set_default_dtype(state.dtype)
    torch.set_grad_enabled(state.grad_enabled)
    torch.use_deterministic_algorithms(state.deterministic[0], warn_only=state.deterministic[1])
    torch.set_float32_matmul_precision(state.matmul_precision)
    torch.random.set_rng_state(state.torch_rng)
    np.random.set_state(state.numpy_rng)
    random.setstate(state.python_rng)
    os.chdir(state.cwd)
    if dict(os.environ) != state.environ:
        os.environ.clear()
        os.environ.update(state.environ)
    sys.argv[:] = state.argv
    for signum, handler in state.handlers.items():
        if signal.getsignal(signum) is not handler:
            signal.signal(signum, handler)
    current = loggers()  # loggers made during the test are left as their modules made them
    for name, saved in state.logging.items():
        saved.restore(current[name])
    if GlobalHydra.instance().is_initialized() and not state.hydra_initialized:
        GlobalHydra.instance().clear()
    if state.gc_frozen == 0 and gc.get_freeze_count():
        gc.unfreeze()
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


def changed(before: ProcessState, after: ProcessState) -> list[str]:
    """The names of what differs: for a test that shows the restoring works."""
    names = []
    for name in ("threads", "dtype", "grad_enabled", "deterministic", "matmul_precision", "cwd",
                 "environ", "argv", "handlers", "hydra_initialized", "gc_frozen"):
        if getattr(before, name) != getattr(after, name):
            names.append(name)
    if not torch.equal(before.torch_rng, after.torch_rng):
        names.append("torch_rng")
    if before.python_rng != after.python_rng:
        names.append("python_rng")
    if any(not np.array_equal(a, b) for a, b in zip(before.numpy_rng, after.numpy_rng)):
        names.append("numpy_rng")
    if any(after.logging[name] != saved for name, saved in before.logging.items()):
        names.append("logging")  # of the loggers there were before
    return names
