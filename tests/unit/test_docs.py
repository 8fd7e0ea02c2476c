"""The docs a newcomer reads in order: every relative link in README.md and docs/**/*.md
points to a file or folder that exists (the #anchor is not checked, only the path), and the
README stays a short first screen plus a tour."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from census_ops.template import REPO_ROOT

# [text](target) and ![alt](target), the target up to whitespace or ")"; code is skipped.
_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
_CODE = re.compile(r"`[^`\n]*`")


def doc_files() -> list[Path]:
    return [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").rglob("*.md"))]


def relative_links(text: str) -> list[str]:
    """The link targets of a markdown text that are paths in this repository."""
    text = _CODE.sub("", _FENCE.sub("", text))
    targets = []
    for target in _LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE) or target.startswith(("#", "//")):
            continue  # http:, https:, mailto:, a same-page anchor
        targets.append(target.split("#", 1)[0].split("?", 1)[0])
    return targets


def test_the_link_reader_finds_links_and_skips_code_and_urls() -> None:
    text = (
        "See [a](docs/a.md#x), ![img](img/b.png) and [web](https://example.org/c.md).\n"
        "[same page](#top) `[not](in-code.md)`\n```\n[no](fenced.md)\n```\n[folder](decisions/)"
    )
    assert relative_links(text) == ["docs/a.md", "img/b.png", "decisions/"]


@pytest.mark.parametrize("doc", doc_files(), ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_every_relative_link_points_to_an_existing_path(doc: Path) -> None:
    broken = [
        target
        for target in relative_links(doc.read_text(encoding="utf-8"))
        if not (doc.parent / target).exists() or not (doc.parent / target).resolve().is_relative_to(REPO_ROOT)
    ]
    assert not broken, f"{doc.relative_to(REPO_ROOT)} links to missing paths: {broken}"


def test_the_readme_is_a_first_screen_and_a_short_tour() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    first_screen, _, tour = readme.partition("\n---\n")
    assert "make run" in first_screen and "make test" in first_screen and "make install" in first_screen
    assert len(tour.splitlines()) <= 85, "the README's tour grew: move the detail into docs/"
    for page in ("docs/architecture.md", "docs/api.md", "docs/operations.md", "docs/decisions/README.md"):
        assert f"]({page})" in tour, f"the README's tour does not link {page}"


def test_every_decision_record_is_in_the_index() -> None:
    folder = REPO_ROOT / "docs" / "decisions"
    index = (folder / "README.md").read_text(encoding="utf-8")
    records = sorted(p.name for p in folder.glob("[0-9][0-9][0-9][0-9]-*.md"))
    assert records, "no decision records"
    assert [int(name[:4]) for name in records] == list(range(1, len(records) + 1)), "numbers must run 0001, 0002, ..."
    assert [name for name in records if f"]({name})" not in index] == []
