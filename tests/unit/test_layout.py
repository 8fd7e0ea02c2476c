"""The code's shape, checked (docs/architecture.md): what the Lambda functions ship never
reaches for the operations package, and no module reaches for another's private names."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from census_ops.template import REPO_ROOT

SHIPPED = ("shared", "functions")  # the layer and the functions' CodeUri folders
OPERATIONS = "census_ops"


def _modules(*roots: str) -> Iterator[Path]:
    for root in roots:
        yield from sorted((REPO_ROOT / root).rglob("*.py"))


def _imports(path: Path) -> Iterator[tuple[int, str, list[str]]]:
    """(line, module, names) for every import in the file, at any depth (imports inside
    functions count: they are how circles and private reaches hide)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module, [alias.name for alias in node.names]


def shipped_imports_of_operations() -> list[str]:
    return [
        f"{path.relative_to(REPO_ROOT)}:{line} imports {module}"
        for path in _modules(*SHIPPED)
        for line, module, _ in _imports(path)
        if module == OPERATIONS or module.startswith(OPERATIONS + ".")
    ]


def private_imports() -> list[str]:
    """`from x import _name` across modules of the project (tests may look inside)."""
    ours = (*SHIPPED, OPERATIONS)
    return [
        f"{path.relative_to(REPO_ROOT)}:{line} imports {module}.{name}"
        for path in _modules(*ours)
        for line, module, names in _imports(path)
        if module.split(".")[0] in ours
        for name in names
        if name.startswith("_") and not name.startswith("__")
    ]


def test_nothing_shipped_imports_the_operations_package() -> None:
    assert shipped_imports_of_operations() == []


def test_no_module_imports_another_modules_private_names() -> None:
    assert private_imports() == []


def test_the_operations_package_lives_outside_the_layer() -> None:
    assert (REPO_ROOT / OPERATIONS / "cli.py").is_file()
    assert not (REPO_ROOT / "shared" / "ops").exists()


@pytest.mark.parametrize(
    ("source", "check"),
    [
        ("from census_ops.cli import main\n", shipped_imports_of_operations),
        ("def f():\n    import census_ops.tokens\n", shipped_imports_of_operations),
        ("from shared.http import _private\n", private_imports),
    ],
)
def test_the_checks_see_a_violation(source: str, check: object, tmp_path: Path) -> None:
    probe = REPO_ROOT / "shared" / "_layout_probe.py"
    probe.write_text(source, encoding="utf-8")
    try:
        assert callable(check)
        assert check() != []
    finally:
        probe.unlink()


WINDOW = 6  # lines: a block this long, the same to the letter in two modules, is a copy


def _code_lines(path: Path) -> list[str]:
    """The file's statements as written, without blank lines, comments, imports, docstrings
    and function signatures (those repeat by nature: a parameter list is not a copied block)."""
    source = path.read_text(encoding="utf-8")
    skipped: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            skipped.update(range(node.lineno, node.body[0].lineno))
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            skipped.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    lines = []
    for number, raw in enumerate(source.splitlines(), start=1):
        line = raw.strip()
        if number not in skipped and line and not line.startswith(("#", "import ", "from ", ")", "]", "}")):
            lines.append(line)
    return lines


def copied_blocks(*roots: str) -> list[str]:
    """Blocks of WINDOW consecutive code lines that stand, identical, in two modules."""
    seen: dict[tuple[str, ...], Path] = {}
    found = []
    for path in _modules(*roots):
        lines = _code_lines(path)
        for start in range(len(lines) - WINDOW + 1):
            block = tuple(lines[start : start + WINDOW])
            first = seen.setdefault(block, path)
            if first != path:
                found.append(f"{first.relative_to(REPO_ROOT)} ~ {path.relative_to(REPO_ROOT)}: {block[0]}")
    return sorted(set(found))


def test_no_block_of_code_is_copied_between_shipped_modules() -> None:
    assert copied_blocks(*SHIPPED) == []


def test_the_copy_check_sees_a_copy() -> None:
    source = (REPO_ROOT / "shared" / "receipts.py").read_text(encoding="utf-8")
    probe = REPO_ROOT / "shared" / "_copy_probe.py"
    probe.write_text(source, encoding="utf-8")
    try:
        assert any("_copy_probe.py" in entry for entry in copied_blocks(*SHIPPED))
    finally:
        probe.unlink()
