"""`resume=RUN_DIR` (or a .ckpt): continue an interrupted run from its checkpoint, with the
same overrides it was started with. The resumed run gets its own directory, with the whole
history and curves; the interrupted one stays as it was, marked "interrupted"."""

import pickle
from pathlib import Path

import torch

from wdbench.config.compose import flatten
from wdbench.errors import ConfigError
from wdbench.outputs.files import RunDir

MAY_DIFFER = {"resume", "threads", "data.root", "data.download"}  # where, not what
STATE_KEY = "StopOnSignal"  # the callback whose state marks a checkpoint as interrupted


def checkpoint_to_resume(resume, config: dict) -> Path | None:
    """The checkpoint to continue from, after checking it belongs to an interrupted run made
    with this very configuration; None when not resuming."""
    if resume is None:
        return None
    path = Path(str(resume)).expanduser()
    checkpoint = RunDir(path).checkpoint if path.is_dir() else path
    if not checkpoint.is_file():
        raise ConfigError("resume", resume, "the directory of an interrupted run (it holds "
                          f"{RunDir.CHECKPOINT}) or a checkpoint file")
    try:
        saved = torch.load(checkpoint, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError, ValueError, pickle.UnpicklingError) as err:
        raise ConfigError("resume", resume,
                          f"a readable checkpoint ({type(err).__name__} reading it)") from None
    state = saved.get("callbacks", {}).get(STATE_KEY, {})
    if not state.get("interrupted"):
        raise ConfigError("resume", resume, "the checkpoint of an interrupted run (this one "
                          "ran to its end: there is nothing to resume)")
    check_same_config(saved.get("wdbench_config", {}), config, state.get("overrides", []))
    return checkpoint


def check_same_config(saved: dict, current: dict, saved_overrides: list[str]) -> None:
    """A resume continues the same experiment: every setting must match the original's."""
    old, new = flatten(saved), flatten(current)
    for key in sorted(set(old) | set(new)):
        if key in MAY_DIFFER or old.get(key) == new.get(key):
            continue
        raise ConfigError(key, new.get(key), f"{old.get(key)!r} as in the run being resumed "
                          f"(give its overrides again: {' '.join(saved_overrides) or 'none'})")
