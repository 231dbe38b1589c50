"""A seeded order of the collected tests for `pytest --shuffle SEED`."""

import random


def shuffled(items: list, seed: int, module_of) -> list:
    """The modules in a random order, and each module's tests in a random order among
    themselves: a module's tests stay together, so its module-scoped fixtures are built once."""
    rng = random.Random(seed)
    modules: dict[str, list] = {}
    for item in items:
        modules.setdefault(module_of(item), []).append(item)
    groups = list(modules.values())
    rng.shuffle(groups)
    for group in groups:
        rng.shuffle(group)
    return [item for group in groups for item in group]
