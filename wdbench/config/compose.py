"""Where the configuration lives, its groups that are named by their option, and composing a
run's config without Hydra's command line (its compose API), options included."""

from pathlib import Path

from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, open_dict

CONF_DIR = Path(__file__).resolve().parents[2] / "conf"
REPORTED_GROUPS = ("data", "model", "regularizer", "optimizer")  # named by their option


def group_choices(hydra_choices) -> dict[str, str | None]:
    """Each group's option, from Hydra's runtime.choices."""
    return {group: hydra_choices.get(group) for group in REPORTED_GROUPS}


def compose_run(overrides: list[str]) -> tuple[DictConfig, dict]:
    """The config a `python -m wdbench OVERRIDES` run gets (without Hydra's own node), and
    its groups' options as Hydra chose them."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=overrides, return_hydra_config=True)
    choices = group_choices(cfg.hydra.runtime.choices)
    with open_dict(cfg):
        del cfg["hydra"]
    return cfg, choices


def flatten(tree, prefix: str = "") -> dict:
    """A nested config as one level of dotted keys: {"a": {"b": 1}} -> {"a.b": 1}."""
    if not isinstance(tree, dict):
        return {prefix: tree}
    flat = {}
    for key, value in tree.items():
        flat.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat
