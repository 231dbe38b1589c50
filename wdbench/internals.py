"""The private parts of Lightning, TensorBoard, Hydra, OmegaConf and torch that wdbench relies
on, in one place: an upgrade that moves them breaks this file (and tests/unit/test_internals.py),
nothing else."""

import torch


def count_optimizer_steps(trainer, steps: int) -> None:
    """Lightning counts optimizer steps (trainer.global_step, max_steps, the checkpoint's
    global_step) when its optimizer wrapper steps; a training_step that steps the optimizer
    itself adds them to the record Lightning's manual optimization keeps."""
    progress = trainer.fit_loop.epoch_loop.manual_optimization.optim_step_progress
    for _ in range(steps):
        progress.increment_ready()
        progress.increment_completed()


def event_file_writer(writer):
    """The event file behind a torch SummaryWriter (what Lightning's TensorBoardLogger writes
    to), which takes whole Summary protos; None for anything else."""
    get = getattr(writer, "_get_file_writer", None)
    return get() if get is not None else None


def add_summary(writer, summary, step: int) -> bool:
    """Append `summary` (a tensorboard Summary proto) to the writer's event file as one event; False if it has none."""
    file_writer = event_file_writer(writer)
    if file_writer is None:
        return False
    file_writer.add_summary(summary, global_step=step)
    return True


def sweep_cross_product(overrides: list) -> list[list[str]]:
    """The jobs Hydra's basic sweeper makes of parsed overrides, each a list of `key=value`."""
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper

    return BasicSweeper.split_arguments(overrides, None)[0]


def basic_launcher() -> type:
    """Hydra's basic launcher (each job in this process, in turn), to build a launcher on."""
    from hydra._internal.core_plugins.basic_launcher import BasicLauncher

    return BasicLauncher


def full_key(node) -> str:
    """A config node's dotted path from the root ("" at the root)."""
    return node._get_full_key(None)


def copy_tensors(targets: list[torch.Tensor], sources: list[torch.Tensor]) -> None:
    """targets[i] := sources[i] for every i, in one fused call."""
    torch._foreach_copy_(targets, sources)


def subtract_tensors(targets: list[torch.Tensor], others: list[torch.Tensor]) -> None:
    """targets[i] -= others[i] for every i, in one fused call."""
    torch._foreach_sub_(targets, others)


def strategy_timeout(strategy) -> float | None:
    """Seconds a DDP strategy's collectives (the rendezvous included) wait; None without one."""
    if getattr(strategy, "_timeout", None) is None:
        return None
    return strategy._timeout.total_seconds()


def overrides_dirname(overrides: list, config) -> str:
    """`hydra.job.override_dirname` as Hydra's config loader writes it for a job's parsed
    overrides (the application's, not Hydra's), under `hydra.job.config.override_dirname`."""
    from hydra._internal.config_loader_impl import get_overrides_dirname

    return get_overrides_dirname(overrides=overrides, exclude_keys=list(config.exclude_keys),
                                 item_sep=config.item_sep, kv_sep=config.kv_sep)
