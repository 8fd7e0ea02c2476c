"""The store owns the table: no code outside shared/store spells a key or talks to
DynamoDB itself, and every store function that does answers a DynamoDB fault with the
retryable 503 (one mapper, `shared.store.faults.mapped_faults`)."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

import pytest

from census_ops.template import REPO_ROOT

# Every key prefix of the table (see shared/store/__init__.py): spelled in shared/store/schema.py only.
KEY_PREFIX = re.compile(
    r"(?<![A-Za-z0-9_])(HH|V|IDEM|RECEIPT|LOCK|VISIT|RESET|OFFICER|ROSTER|ASSIGN|AREA|PROGRESS|IMPORT|META|AUDIT|SNAP|REVIEW|ROLLUP)#"
)
# Only the store may import PynamoDB: whatever uses it reads raw items or keys. (boto3 and
# botocore stay allowed: the fan-out queue sends to SQS.)
STORE_ONLY_IMPORTS = ("pynamodb",)
# Store functions that never call DynamoDB (builders of actions and items, a cursor check)
# or that raise only inside a mapped caller.
PURE = {
    "progress_item",
    "progress_actions",
    "classify_cancellation",
    "worklist_start",
    "review_queue_actions",
    "queue_start",
    "area_trail_start",
    "audit_items",
    "put_audit",
}
CONCERNS = (
    "households",
    "submissions",
    "guesses",
    "credentials",
    "fieldwork",
    "progress",
    "imports",
    "review",
    "audit",
    "assignments",
    "snapshots",
    "rollups",
    "areas",
)


def domain_files() -> list[Path]:
    """The domain modules and handlers: shared/*.py (not the store, not the operations CLI)
    and functions/**/*.py."""
    return sorted((REPO_ROOT / "shared").glob("*.py")) + sorted((REPO_ROOT / "functions").rglob("*.py"))


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def key_literals(source: str) -> list[tuple[int, str]]:
    """(line, text) of every string literal (f-string parts included, docstrings not) that
    spells a key prefix."""
    tree = ast.parse(source)
    prose = _docstrings(tree)
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in prose
        and KEY_PREFIX.search(node.value)
    ]


def store_imports(source: str) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(source)):
        names = (
            [a.name for a in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
            if isinstance(node, ast.ImportFrom)
            else []
        )
        found += [(node.lineno, n) for n in names if n.split(".")[0] in STORE_ONLY_IMPORTS]
    return found


def test_the_scanner_finds_keys_spelled_any_way() -> None:
    source = '''
"""A docstring may name HH#<kk> and VISIT#<id>."""
pk = f"HH#{kk}"
kk = item.pk.removeprefix("HH#")
sk = "VISIT#" + visit_id
area = ("AREA#", area)
fine = "a # comment-like text", "NIK#", "HHH"
'''
    assert [line for line, _ in key_literals(source)] == [3, 4, 5, 6]
    assert store_imports("import pynamodb\nfrom pynamodb.models import Model\nimport json\n") == [
        (1, "pynamodb"),
        (2, "pynamodb.models"),
    ]


@pytest.mark.parametrize("path", domain_files(), ids=lambda p: p.relative_to(REPO_ROOT).as_posix())
def test_no_key_or_dynamodb_outside_the_store(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert not key_literals(source), f"{path.name} spells table keys; ask shared.store for them instead"
    assert not store_imports(source), f"{path.name} imports PynamoDB; only shared.store may"


@pytest.mark.parametrize("concern", CONCERNS)
def test_every_store_call_maps_faults_to_the_retryable_503(concern: str) -> None:
    module = importlib.import_module(f"shared.store.{concern}")
    unmapped = [
        name
        for name, function in vars(module).items()
        if inspect.isfunction(function)
        and function.__module__ == module.__name__
        and not name.startswith("_")
        and name not in PURE
        and not hasattr(function, "__wrapped__")
    ]
    assert not unmapped, f"shared.store.{concern}: wrap these in @mapped_faults: {unmapped}"


# The bench's unit accounting names the items it charges ("HH#/META", "RECEIPT#/RECEIPT"):
# labels of a report, read off recorded requests, never keys written or read.
_LABELS = {"census_ops/bench/units.py", "census_ops/bench/operations.py"}


def operations_files() -> list[Path]:
    return [
        path
        for path in sorted((REPO_ROOT / "census_ops").rglob("*.py"))
        if path.relative_to(REPO_ROOT).as_posix() not in _LABELS
    ]


@pytest.mark.parametrize("path", operations_files(), ids=lambda p: p.relative_to(REPO_ROOT).as_posix())
def test_operations_build_keys_with_the_stores_schema(path: Path) -> None:
    """The operations tools may read raw items (load checks, bench fillers), but they spell
    no key themselves: shared.store.schema builds and parses every one."""
    assert not key_literals(path.read_text(encoding="utf-8")), f"{path.name}: use shared.store.schema's key builders"
