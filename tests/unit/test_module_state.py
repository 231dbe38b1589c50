"""No module of the package keeps state in a module-level container: a list, dict or set
assigned at module level and then changed (appended to, updated, assigned into) carries what
one sweep or run did into the next one in the same process. Constants (tuples, frozen
mappings read only) pass."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted([*(ROOT / "wdbench").rglob("*.py"), *(ROOT / "hydra_plugins").rglob("*.py")])
CONTAINERS = (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)
CONSTRUCTORS = {"list", "dict", "set", "defaultdict", "OrderedDict", "deque", "Counter"}
# Filled once, as the package is imported (`@register` on each regulariser class,
# `@measurer` on each measurement): what exists, the same in every process, never what a run
# did.
IMPORT_TIME_REGISTRIES = {"wdbench/regularizers/registry.py: KINDS",
                          "wdbench/metrics/measures.py: MEASURERS"}
MUTATORS = {"append", "extend", "insert", "add", "update", "pop", "popitem", "remove",
            "discard", "clear", "setdefault", "appendleft", "extendleft"}


def is_container(value: ast.expr | None) -> bool:
    if isinstance(value, CONTAINERS):
        return True
    return (isinstance(value, ast.Call) and isinstance(value.func, ast.Name)
            and value.func.id in CONSTRUCTORS)


def module_containers(tree: ast.Module) -> set[str]:
    names = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and is_container(node.value):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif (isinstance(node, ast.AnnAssign) and is_container(node.value)
              and isinstance(node.target, ast.Name)):
            names.add(node.target.id)
    return names


def changed_names(tree: ast.AST) -> set[str]:
    """Names (bare or as `module.name`) a method call, an item assignment or `del` changes."""
    changed = set()
    for node in ast.walk(tree):
        target = None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in MUTATORS:
                target = node.func.value
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            target = next((t.value for t in targets if isinstance(t, ast.Subscript)), None)
            if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
                target = node.target
        if isinstance(target, ast.Name):
            changed.add(target.id)
        elif isinstance(target, ast.Attribute):
            changed.add(target.attr)
    return changed


def stateful_containers(sources: list[Path], root: Path = ROOT) -> list[str]:
    trees = {path: ast.parse(path.read_text()) for path in sources}
    changed = set().union(*(changed_names(tree) for tree in trees.values()))
    found = {f"{path.relative_to(root)}: {name}" for path, tree in trees.items()
             for name in module_containers(tree) & changed}
    return sorted(found - IMPORT_TIME_REGISTRIES)


def test_no_module_level_container_carries_state():
    assert len(SOURCES) > 50
    assert stateful_containers(SOURCES) == []


def test_the_scan_finds_a_registry_that_is_filled(tmp_path):
    """What the package once had: a module-level list a callback appends to, and one changed
    from another module through its name."""
    (tmp_path / "jobs.py").write_text("FINISHED = ('completed',)\nfailed: list[str] = []\n"
                                      "def end(d):\n    failed.append(d)\n")
    (tmp_path / "cli.py").write_text("from x import jobs\nmade = {}\nLIMITS = {'a': 1}\n"
                                     "def run():\n    jobs.made['d'] = 1\n")
    found = stateful_containers(sorted(tmp_path.glob("*.py")), root=tmp_path)
    assert found == ["cli.py: made", "jobs.py: failed"]
