"""`python -m wdbench --help`: the experiments and the groups a user picks, read from conf/ so
the page never lists a file that is gone. Hydra's own page offers every group, the internal
ones (setup, tuning) too."""

import textwrap

from omegaconf import OmegaConf

from wdbench.config.compose import CONF_DIR

RESOLVER = "wdbench_help_options"
# The groups a user picks; setup/ and tuning/ are parts that experiments and defaults include.
USER_GROUPS = ("experiment", "data", "model", "regularizer", "optimizer", "scheduler",
               "hparams_search", "hydra/launcher")
ADDED = ("experiment", "hparams_search")  # not in the defaults list: added with +
WIDTH = 92


def options(group: str) -> list[str]:
    return sorted(path.stem for path in (CONF_DIR / group).glob("*.yaml"))


def options_text() -> str:
    """One wrapped entry per group: `group=`, then its options."""
    lines = []
    for group in USER_GROUPS:
        prefix = f"+{group}=" if group in ADDED else f"{group}="
        names = options(group) + (["basic (default)"] if group == "hydra/launcher" else [])
        lines += textwrap.wrap(", ".join(names), WIDTH, initial_indent=f"  {prefix:<16}",
                               subsequent_indent=" " * 18, break_on_hyphens=False)
    return "\n".join(lines)


def register_help_resolver() -> None:
    if not OmegaConf.has_resolver(RESOLVER):
        OmegaConf.register_new_resolver(RESOLVER, options_text)
