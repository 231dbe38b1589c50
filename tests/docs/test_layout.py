"""How the code and the suite are laid out. The package by stage: `ls wdbench/` shows where a
run goes, with only the entry point and what every stage shares beside the stages. The tests
by kind (unit, integration, science, docs); what tests share lives in tests/helpers/ (or a
module beside the tests that is not itself a test file), never in another test module, so
that each test file runs alone and none runs twice through an import."""

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
PACKAGE = TESTS.parent / "wdbench"
STAGES = {"config", "data", "regularizers", "training", "metrics", "outputs", "sweep",
          "stacked", "report"}
SHARED = {"__init__.py", "__main__.py", "cli.py", "errors.py", "internals.py", "models.py"}
KINDS = {"unit", "integration", "science", "docs"}


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


def test_the_package_is_its_stages():
    entries = {p.name for p in PACKAGE.iterdir() if p.name != "__pycache__"}
    assert entries == STAGES | SHARED
    assert all((PACKAGE / stage / "__init__.py").is_file() for stage in STAGES)


def test_every_test_file_sits_in_its_kind():
    files = sorted(TESTS.rglob("test_*.py"))
    assert {f.parent.relative_to(TESTS).as_posix() for f in files} == KINDS
