"""Each results README quotes only numbers its folder's generated files hold (at the quoted
precision), the settings of its commands, or numbers footnoted with their source, so that a
re-run that changes a number fails here until the prose follows (docs/results.md)."""

from pathlib import Path

import pytest

from tests.helpers.prose import (footnotes, generated_numbers, is_quoted_from, quoted_numbers,
                                 setting_numbers)

RESULTS = Path(__file__).resolve().parents[2] / "results"
READMES = sorted(RESULTS.glob("*/README.md"))


def unsourced_numbers(readme: Path) -> list[str]:
    text = readme.read_text()
    known = sorted(set(generated_numbers(readme.parent)) | set(setting_numbers(text)))
    return [f"{readme.parent.name}/README.md:{line}: {written}"
            for line, written, value, half in quoted_numbers(text)
            if not is_quoted_from(value, half, known)
            and not (written.endswith("%") and is_quoted_from(value * 100, half * 100, known))]


def test_every_report_folder_has_a_readme():
    assert len(READMES) == 10


@pytest.mark.parametrize("readme", READMES, ids=lambda p: p.parent.name)
def test_readme_numbers_come_from_its_generated_files(readme):
    assert unsourced_numbers(readme) == []


@pytest.mark.parametrize("readme", READMES, ids=lambda p: p.parent.name)
def test_readme_footnotes_are_defined_and_used(readme):
    used, defined = footnotes(readme.read_text())
    assert (sorted(used - defined), sorted(defined - used)) == ([], [])
