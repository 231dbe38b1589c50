"""The order of the collected tests: seeded for `pytest --shuffle SEED`, long modules first."""

import random
from collections import Counter


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


def slow_modules_first(items: list, module_of) -> list:
    """The modules holding a test marked slow first, in the order they had; then the others,
    those with more tests first. Each worker of `pytest -n N --dist loadfile` takes the next
    whole module when it is free: with the long ones taken first, the short ones even out the
    workers at the end."""
    sizes = Counter(module_of(item) for item in items)
    slow = {module_of(item) for item in items if item.get_closest_marker("slow")}
    # a stable sort: the order among equals is the one the items had
    return sorted(items, key=lambda item: (0, 0) if module_of(item) in slow
                  else (1, -sizes[module_of(item)]))
