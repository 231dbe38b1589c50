"""Each job of a sweep composed at most once. Hydra's sweeper composes every job of a batch to
check that it can (a failure stops the sweep before any job runs), then an in-process launcher
composes each again to run it: the same call, the same config, a second time. The sweep's
config loader keeps what the check composed and hands each config, once, to the launcher.

Most jobs of a sweep differ from another only in values (`seed=1` where it had `seed=0`): the
same config groups, so the same defaults list and the same files merged. Such a job's config
is the other's with those values set, as Hydra sets a command line's values after composing;
it is derived so, without composing (a copy costs a few milliseconds, a composition a tenth
of a second or more)."""

import contextlib
import copy
from collections import defaultdict
from contextlib import contextmanager

from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf

from wdbench.internals import overrides_dirname

# Configs kept at most (mlp_l2's composed config, Hydra's node included, holds about
# 140 KB): a sweep's jobs beyond these are composed again at launch, as without keeping.
KEEP_AT_MOST = 256
# Jobs' configs derived from at most this many composed ones (one per set of config groups).
TEMPLATES_AT_MOST = 64


class ComposedOnce:
    """The sweep's config loader, whose `load_sweep_config` keeps what the sweeper's check
    composed; inside `launching()` the same call takes the kept config instead of composing it
    again. A launcher changes the config it runs, so each kept config is handed out once, and
    what a batch left over goes at the end of its launch. Everything else is the loader's."""

    def __init__(self, loader, keep_at_most: int = KEEP_AT_MOST):
        self.loader = loader
        self.keep_at_most = keep_at_most
        self.kept: dict[tuple, list] = defaultdict(list)
        self.in_launch = False
        self.derived_from = ValuesDerived(loader)

    def __getattr__(self, name):
        return getattr(self.loader, name)

    def load_sweep_config(self, master_config, sweep_overrides):
        key = (id(master_config), tuple(sweep_overrides))
        if self.in_launch and self.kept.get(key):
            return self.kept[key].pop(0)
        config = self.derived_from.load_sweep_config(master_config, list(sweep_overrides))
        if not self.in_launch and sum(map(len, self.kept.values())) < self.keep_at_most:
            self.kept[key].append(config)
        return config

    @contextmanager
    def launching(self):
        self.in_launch = True
        try:
            yield
        finally:
            self.in_launch = False
            self.kept.clear()


def compose_once(hydra_context) -> ComposedOnce:
    """The sweep's loader (shared by its sweeper and launcher) as a ComposedOnce."""
    if not isinstance(hydra_context.config_loader, ComposedOnce):
        hydra_context.config_loader = ComposedOnce(hydra_context.config_loader)
    return hydra_context.config_loader


class ValuesDerived:
    """`load_sweep_config` that composes a job only where no composed job has its config
    groups and its overrides' keys; otherwise the job's config is that one's, copied, with the
    job's own values set. What Hydra would have refused (a key the config lacks) is composed
    after all, so that the error is Hydra's own."""

    def __init__(self, loader):
        self.loader = loader
        self.parser = OverridesParser.create()
        self.groups = None
        self.templates: dict[tuple, tuple] = {}

    def load_sweep_config(self, master_config, sweep_overrides: list[str]):
        parsed = self.parser.parse_overrides(sweep_overrides)
        shape = (id(master_config), *self.shape_of(parsed))
        template = self.templates.get(shape)
        if template is not None:
            with contextlib.suppress(Exception):  # composing says what is wrong, as Hydra says it
                return derived(template, parsed, master_config)
        config = self.loader.load_sweep_config(master_config, sweep_overrides)
        if template is None and len(self.templates) < TEMPLATES_AT_MOST:
            # the master config is held so that its id stays its own
            self.templates[shape] = (copy.deepcopy(config), parsed, master_config)
        return config

    def shape_of(self, parsed: list) -> list:
        """What a job shares with the jobs derivable from it: each override's line, except
        that a value override is its key alone."""
        if self.groups is None:
            self.groups = config_groups(self.loader)
        # the keys Hydra sets after composing, in the order given
        keys = [o.key_or_group for o in parsed if not picks_a_group(o, self.groups)]
        return [("value", o.key_or_group) if sets_a_value(o, self.groups, keys)
                else ("line", o.input_line) for o in parsed]


def picks_a_group(override, groups: set[str]) -> bool:
    """A config group's option (`optimizer=adamw`, `hydra/launcher=joblib`, `+experiment=x`)."""
    key = override.key_or_group
    return override.package is not None or key in groups or "/" in key


def sets_a_value(override, groups: set[str], keys: list[str]) -> bool:
    """`key=value` for a config value (not a config group nor Hydra's own; no +, ++, ~ or
    @package), to anything but a dict (a dict merges into what is there), whose key no other
    value the job sets overlaps (so the order they are set in cannot matter)."""
    key = override.key_or_group
    if (override.is_delete() or override.is_add() or override.is_force_add()
            or override.is_sweep_override() or override.is_hydra_override()
            or picks_a_group(override, groups) or isinstance(override.value(), dict)):
        return False
    return keys.count(key) == 1 and not any(
        other.startswith(key + ".") or key.startswith(other + ".") for other in keys)


def derived(template: tuple, parsed: list, master_config):
    """The template's config with `parsed`'s values set where they differ from the template's,
    and what Hydra's loader records of a job's overrides written anew."""
    config, template_parsed, _ = template
    config = copy.deepcopy(config)
    for old, new in zip(template_parsed, parsed):
        if old.input_line != new.input_line:
            OmegaConf.update(config, new.key_or_group, new.value(), merge=True)
    own = [o for o in parsed if not o.is_hydra_override()]
    config.hydra.overrides.task = [o.input_line for o in own]
    config.hydra.job.override_dirname = overrides_dirname(
        own, config.hydra.job.config.override_dirname)
    OmegaConf.copy_cache(from_config=master_config, to_config=config)
    return config


def config_groups(loader) -> set[str]:
    """Every config group's path ("optimizer", "hydra/launcher", ...) the loader can find."""
    groups, parents = set(), [""]
    while parents:
        parent = parents.pop()
        for name in loader.list_groups(parent):
            path = f"{parent}/{name}" if parent else name
            groups.add(path)
            parents.append(path)
    return groups
