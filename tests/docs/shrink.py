"""Shrinking a wdbench command line to a test's size without changing what it runs: each
swept key keeps its first value (the experiment's own grid too), Optuna runs two trials, and
the run trains one epoch on 200 images. Run as a script, it stands in for `python`:
`shrink.py -m wdbench ARGS` runs `python -m wdbench SHRUNK_ARGS`, anything else unchanged, in
its own process (which is warm where tests/helpers/warm_python.py runs it)."""

import os
import sys
from pathlib import Path

from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from tests.helpers.warm_python import run_python

CONF_DIR = Path(__file__).resolve().parents[2] / "conf"

# What makes a README command small: one epoch on 200 images; kept last, so they win.
SMALLER = ["trainer.max_epochs=1", "data.train_size=200", "data.val_size=100", "threads=1",
           "metrics.eval_rows=200", "metrics.figure=false"]
OPTUNA_TRIALS = "hydra.sweeper.n_trials=2"
# Values each swept list keeps: 1, or 2 where a report compares grid points (a best λ per n, a
# plane of two knobs).
KEEP = int(os.environ.get("SHRINK_KEEP", "1"))


def split_top(value: str) -> list[str]:
    """A sweep's values, split at the commas outside brackets and parentheses."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(value):
        depth += char in "[(" and 1 or char in "])" and -1 or 0
        if char == "," and depth == 0:
            parts.append(value[start:i])
            start = i + 1
    return [*parts, value[start:]]


def experiment_sweep(args: list[str]) -> dict:
    """The sweeper an experiment composes (its grid may come from hparams_search/)."""
    chosen = [a for a in args if a.startswith(("+experiment=", "+hparams_search="))]
    if not chosen:
        return {}
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=chosen, return_hydra_config=True)
    return OmegaConf.to_container(cfg.hydra.sweeper)


def shrunk(args: list[str]) -> list[str]:
    """Each swept key keeps its first value, the experiment's own grid too; Optuna runs two
    trials; then SMALLER."""
    sweeper = experiment_sweep(args)
    keys = {a.split("=", 1)[0] for a in args if "=" in a}
    out = []
    for arg in args:
        key, _, value = arg.partition("=")
        if key == "hydra.sweeper.n_trials":
            arg = OPTUNA_TRIALS
        elif value and "interval(" not in value and not key.startswith("hydra"):
            arg = f"{key}={','.join(split_top(value)[:KEEP])}"
        out.append(arg)
    if "n_trials" in sweeper:
        out += [] if "hydra.sweeper.n_trials" in keys else [OPTUNA_TRIALS]
    else:
        out += [f"{key}={','.join(split_top(str(values))[:KEEP])}"
                for key, values in (sweeper.get("params") or {}).items() if key not in keys]
    # A swept key keeps its (first) values: a sweep over data.train_size stays one.
    swept = set(sweeper.get("params") or {}) | {a.split("=", 1)[0] for a in args
                                                   if len(split_top(a.partition("=")[2])) > 1}
    smaller = [a for a in SMALLER if a.split("=", 1)[0] not in swept]
    forced = {a.split("=", 1)[0] for a in smaller}
    return [*(a for a in out if a.split("=", 1)[0] not in forced), *smaller]


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:2] == ["-m", "wdbench"]:
        args = ["-m", "wdbench", *shrunk(args[2:])]
    sys.exit(run_python(args))
