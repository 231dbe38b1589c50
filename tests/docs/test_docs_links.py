"""The links of README.md and docs/*.md: every relative link names a file that exists and, with
`#anchor`, a heading in it (GitHub's anchors); README and the docs index link each other, and
the index lists every page."""

import re

from tests.helpers.docs import DOC_FILES
from tests.helpers.runs import REPO

LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path) -> set[str]:
    return {anchor(line.lstrip("#")) for line in path.read_text().splitlines()
            if line.startswith("#")}


def test_anchor_follows_github():
    assert anchor(" What weight decay does on the lecture's task, and why") == \
        "what-weight-decay-does-on-the-lectures-task-and-why"
    assert anchor("A whole λ grid as one stacked model") == "a-whole-λ-grid-as-one-stacked-model"


def test_every_relative_link_resolves():
    broken = []
    for page in DOC_FILES:
        for target in LINK.findall(page.read_text()):
            if re.match(r"[a-z]+:", target):
                continue
            file, _, fragment = target.partition("#")
            path = (page.parent / file).resolve() if file else page
            if not path.exists() or (fragment and fragment not in anchors(path)):
                broken.append(f"{page.relative_to(REPO)}: {target}")
    assert not broken, "links to nothing:\n" + "\n".join(broken)


def test_readme_and_docs_index_link_each_other_and_every_page():
    readme, index = (REPO / "README.md").read_text(), (REPO / "docs/README.md").read_text()
    assert "(docs/README.md)" in readme and "(../README.md)" in index
    pages = {p.name for p in (REPO / "docs").glob("*.md")} - {"README.md"}
    assert pages and pages <= set(LINK.findall(index))
