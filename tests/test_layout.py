"""How the suite is laid out: what tests share lives in tests/helpers/ (or a module beside the
tests that is not itself a test file), never in another test module, so that each test file
runs alone and none runs twice through an import."""

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_test_module_imports_another():
    files = sorted(TESTS.rglob("test_*.py"))
    assert len(files) > 40
    imports = {f.name: sorted(m for m in imported_modules(f)
                              if m.split(".")[-1].startswith("test_")) for f in files}
    assert {name: found for name, found in imports.items() if found} == {}
