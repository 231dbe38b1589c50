"""Each job of a sweep composed once. Hydra's sweeper composes every job of a batch to check
that it can (a failure stops the sweep before any job runs), then an in-process launcher
composes each again to run it: the same call, the same config, a second time. The sweep's
config loader keeps what the check composed and hands each config, once, to the launcher."""

from collections import defaultdict
from contextlib import contextmanager

# Configs kept at most (mlp_l2's composed config, Hydra's node included, holds about
# 140 KB): a sweep's jobs beyond these are composed again at launch, as without keeping.
KEEP_AT_MOST = 256


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

    def __getattr__(self, name):
        return getattr(self.loader, name)

    def load_sweep_config(self, master_config, sweep_overrides):
        key = (id(master_config), tuple(sweep_overrides))
        if self.in_launch and self.kept.get(key):
            return self.kept[key].pop(0)
        config = self.loader.load_sweep_config(master_config, list(sweep_overrides))
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
