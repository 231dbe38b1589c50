"""An option picked on the command line brings its own settings. An experiment's values for a
group were written for the option the experiment picked: on another option they are foreign
keys (a `strength` for `norm_ball`) or values meant for something else (SGD's lr and momentum
for AdamW). So a group whose option the command line changed gets what that option gives
without the experiment (its own file, and the data/model tuning file where one applies), plus
the keys the user typed for it; a typed key the option does not have is refused."""

from functools import cache
from pathlib import Path

from hydra import compose
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override, OverrideType
from omegaconf import DictConfig, OmegaConf, open_dict

from wdbench.errors import ConfigError

ABSENT = object()
# The groups whose option, picked on the command line, brings its own settings.
OWN_SETTINGS_GROUPS = ("data", "model", "regularizer", "optimizer", "scheduler")


def use_own_settings(cfg: DictConfig, overrides: list[str], choices) -> list[str]:
    """Replace, in `cfg`, each group whose option the command line changed from the
    experiment's by that option's own settings plus the typed keys. Returns those groups.
    Needs Hydra initialised (inside a Hydra app or `initialize_config_dir`)."""
    parsed = OverridesParser.create().parse_overrides(list(overrides))
    experiment = tuple(o.input_line for o in parsed if o.key_or_group == "experiment")
    if not experiment:
        return []  # without an experiment every value already is the option's own
    base = experiment_choices(experiment)
    groups = OWN_SETTINGS_GROUPS
    typed = {o.key_or_group for o in parsed if o.key_or_group in groups and not o.is_delete()}
    swapped = [g for g in groups if g in typed and choices.get(g) != base.get(g)]
    if not swapped:
        return []
    # the swapped options, and data and model, whose pair picks the tuning file: what else
    # the options alone compose to is not read
    asked = [g for g in groups if g in swapped or g in ("data", "model")]
    own = options_alone(tuple((g, choices[g]) for g in asked if choices.get(g) is not None))
    with open_dict(cfg):
        for group in swapped:
            node = OmegaConf.create(own[group])
            for override in parsed:
                if override.key_or_group.startswith(group + "."):
                    apply_typed(node, override, cfg, f"{group}={choices[group]}")
            cfg[group] = OmegaConf.to_container(node, resolve=False)
    return swapped


@cache
def experiment_choices(experiment: tuple[str, ...]) -> dict:
    """Each group's option as the experiment alone picks it."""
    cfg = compose(config_name="config", overrides=list(experiment), return_hydra_config=True)
    return dict(cfg.hydra.runtime.choices)


@cache
def options_alone(choices: tuple[tuple[str, str], ...]) -> dict:
    """Each group's settings for these options without an experiment (the data/model tuning
    file included), unresolved."""
    cfg = compose(config_name="config", overrides=[f"{g}={option}" for g, option in choices])
    return OmegaConf.to_container(cfg, resolve=False)


def apply_typed(node: DictConfig, override: Override, cfg: DictConfig, option: str) -> None:
    """Put a key the user typed into the option's node, with the value Hydra already parsed
    into `cfg`; a plain `key=value` for a key the option lacks is refused, as Hydra refuses it
    without an experiment."""
    key = override.key_or_group
    sub = key.partition(".")[2]
    if override.type == OverrideType.DEL:
        parent, _, leaf = sub.rpartition(".")
        with open_dict(node):
            (OmegaConf.select(node, parent) if parent else node).pop(leaf, None)
        return
    if override.type == OverrideType.CHANGE and OmegaConf.select(node, sub, default=ABSENT) \
            is ABSENT:
        known = [str(k) for k in node if not str(k).startswith("_")]
        raise ConfigError(key, OmegaConf.select(cfg, key), f"the keys of {option}: "
                          f"{', '.join(known)}")
    with open_dict(node):
        OmegaConf.update(node, sub, OmegaConf.select(cfg, key), merge=False)


def record_config(cfg: DictConfig, hydra_cfg) -> None:
    """Hydra saved the config before the swap: its record (which reports read) must show the
    settings the run trained with."""
    if hydra_cfg.output_subdir is not None:
        path = Path(hydra_cfg.runtime.output_dir) / hydra_cfg.output_subdir / "config.yaml"
        OmegaConf.save(cfg, path)
