"""Each results README quotes only numbers its folder's generated files hold (at the quoted
precision), the settings of its commands, or numbers footnoted with their source, so that a
re-run that changes a number fails here until the prose follows (docs/results.md)."""

from pathlib import Path

import pytest

from tests.helpers.prose import (
    footnotes,
    generated_numbers,
    is_quoted_from,
    quoted_numbers,
    setting_numbers,
)

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
    folders = [p for p in RESULTS.iterdir() if p.is_dir() and p.name.split("_")[0].isdigit()]
    assert len(folders) >= 11 and len(READMES) == len(folders)


@pytest.mark.parametrize("readme", READMES, ids=lambda p: p.parent.name)
def test_readme_numbers_come_from_its_generated_files(readme):
    assert unsourced_numbers(readme) == []


@pytest.mark.parametrize("readme", READMES, ids=lambda p: p.parent.name)
def test_readme_footnotes_are_defined_and_used(readme):
    used, defined = footnotes(readme.read_text())
    assert (sorted(used - defined), sorted(defined - used)) == ([], [])


def test_a_quoted_number_must_round_from_a_generated_one(tmp_path):
    (tmp_path / "configurations.csv").write_text("gap_acc,test_acc\n0.0191666,0.8406333\n")
    readme = tmp_path / "README.md"
    readme.write_text("Gap 0.0192, accuracy 84.06%, `lr=0.3` in code, Zalando 0.842[^z].\n"
                      "Old gap 0.026 and 0.0191.\n\n[^z]: Zalando's table, 0.871 too.\n")
    assert unsourced_numbers(readme) == [f"{tmp_path.name}/README.md:2: 0.026",
                                         f"{tmp_path.name}/README.md:2: 0.0191"]
