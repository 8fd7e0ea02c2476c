"""shared/errors.py is the one catalogue of the API's errors: every error class lives
there, every code the server answers is in it, and the docs' error tables (any markdown
table with a `code` column, in the repository's *.md and docs/) name exactly its codes.

To refresh the complete tables in docs/api.md after changing the catalogue:
`python -m tests.unit.test_error_catalogue` prints them."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from census_ops.template import REPO_ROOT
from shared import errors
from shared.errors import CATALOGUE, FIELD_PROBLEMS, CensusError, NotFound, RetryableError
from tests.unit.test_web_messages import codes_in_source

# Bases that are never answered as themselves.
BASES = {NotFound, RetryableError}
_CODE = re.compile(r"`([a-z][a-z0-9_]*)`")
# API Gateway's own answers (template.yaml's gateway responses): documented, not raised.
_TEMPLATE_CODE = re.compile(r'\\?"code\\?":\s*\\?"([a-z_]+)\\?"')


def doc_files() -> list[Path]:
    return sorted(REPO_ROOT.glob("*.md")) + sorted((REPO_ROOT / "docs").rglob("*.md"))


def table_codes(text: str) -> set[str]:
    """Every `code` in the `code` column of the markdown tables in `text`."""
    found: set[str] = set()
    column: int | None = None
    for line in text.splitlines():
        if not line.lstrip().startswith("|"):
            column = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if column is None:
            column = cells.index("code") if "code" in cells else -1
        elif column >= 0 and len(cells) > column and not set(cells[column]) <= set("-: "):
            found |= set(_CODE.findall(cells[column]))
    return found


def documented_codes() -> dict[str, str]:
    """code -> the first docs file whose tables name it."""
    found: dict[str, str] = {}
    for path in doc_files():
        for code in table_codes(path.read_text(encoding="utf-8")):
            found.setdefault(code, path.relative_to(REPO_ROOT).as_posix())
    return found


def gateway_codes() -> set[str]:
    return set(_TEMPLATE_CODE.findall((REPO_ROOT / "template.yaml").read_text(encoding="utf-8")))


def markdown_tables() -> str:
    """The complete tables docs/api.md carries, made from the catalogue."""
    rows = ["| status | code | message |", "|---|---|---|"]
    rows += [f"| {e.status} | `{e.code}` | {e.message} |" for e in sorted(CATALOGUE, key=lambda e: (e.status, e.code))]
    rows += ["", "| code | the field problem (in `details` of a 422) |", "|---|---|"]
    rows += [f"| `{code}` | {when} |" for code, when in FIELD_PROBLEMS.items()]
    return "\n".join(rows) + "\n"


def test_the_table_reader_finds_codes_in_code_columns_only() -> None:
    text = """
| status | code | when |
|---|---|---|
| 401 | `password_required`, `session_expired` | `not_a_code_column` |

| name | meaning |
|---|---|
| `other_table` | no code column |
"""
    assert table_codes(text) == {"password_required", "session_expired"}


def test_every_code_in_the_docs_tables_is_in_the_catalogue() -> None:
    unknown = {
        code: where for code, where in documented_codes().items() if code not in errors.codes() | gateway_codes()
    }
    assert not unknown, f"docs tables name codes that shared/errors.py does not have (code: file): {unknown}"


def test_every_catalogue_code_is_in_a_docs_table() -> None:
    missing = sorted(errors.codes() - set(documented_codes()))
    assert not missing, (
        f"codes of shared/errors.py in no docs table: {missing}; docs/api.md needs:\n{markdown_tables()}"
    )


def test_the_docs_carry_the_complete_tables_as_the_catalogue_makes_them() -> None:
    """Messages and statuses too, not only the codes: one docs file has the tables verbatim."""
    tables = markdown_tables()
    assert any(tables in path.read_text(encoding="utf-8") for path in doc_files()), (
        f"no docs file has the catalogue's current tables; replace those in docs/api.md with:\n{tables}"
    )


def test_the_catalogue_has_one_class_per_code_and_every_class() -> None:
    codes = [e.code for e in CATALOGUE]
    assert len(codes) == len(set(codes)), "two catalogue entries share a code"
    assert not set(codes) & set(FIELD_PROBLEMS), "a code is both an error and a field problem"

    def subclasses(cls: type[CensusError]) -> set[type[CensusError]]:
        return {cls}.union(*(subclasses(s) for s in cls.__subclasses__()))

    for path in sorted((REPO_ROOT / "shared").glob("*.py")):
        importlib.import_module(f"shared.{path.stem}")
    outside = {c.__qualname__: c.__module__ for c in subclasses(CensusError) if c.__module__ != "shared.errors"}
    assert not outside, f"error classes outside shared/errors.py: {outside}"
    assert subclasses(CensusError) - BASES == set(CATALOGUE), "an error class missing from CATALOGUE"


@pytest.mark.parametrize(
    "path",
    sorted((REPO_ROOT / "shared").glob("*.py")) + sorted((REPO_ROOT / "functions").rglob("*.py")),
    ids=lambda p: p.relative_to(REPO_ROOT).as_posix(),
)
def test_every_code_the_server_answers_is_in_the_catalogue(path: Path) -> None:
    bases = {base.code for base in BASES}  # spelled in shared/errors.py, answered only through subclasses
    unknown = codes_in_source(path.read_text(encoding="utf-8")) - errors.codes() - bases
    assert not unknown, f"{path.name} answers codes not in shared/errors.py (CATALOGUE or FIELD_PROBLEMS): {unknown}"


if __name__ == "__main__":
    print(markdown_tables(), end="")


def test_the_openapi_document_takes_each_routes_errors_from_the_catalogue() -> None:
    from census_ops.openapi import OPERATIONS, build_document, route_errors

    by_code = {e.code: e for e in CATALOGUE}
    documented: set[str] = set()
    for path, item in build_document()["paths"].items():
        for method, operation in item.items():
            expected = route_errors(OPERATIONS[(method.upper(), path)])
            for status, answer in operation["responses"].items():
                for code in answer.get("x-error-codes", []):
                    assert by_code[code].status == int(status), (method, path, code)
                    documented.add(code)
            listed = {c for answer in operation["responses"].values() for c in answer.get("x-error-codes", [])}
            assert listed == {e.code for e in expected}, (method, path)
    # Answered by no route's own code: the resolver's unknown route and the unexpected 500.
    assert documented == {e.code for e in CATALOGUE} - {"route_not_found", "internal_error"}
