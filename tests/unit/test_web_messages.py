"""Every error code the server can answer has a message in Indonesian and in English in the
web page's catalogue (web/js/messages.js), so a new code without a translation turns the
build red instead of showing residents a raw English message or a bare code.

The codes are found by reading the server's source (shared/ and functions/, the local API,
and the template's gateway responses), not by listing them here: what the scanner looks for
is the handful of ways this code base spells a code (see `codes_in_source`)."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest

from census_ops.template import REPO_ROOT
from shared.status import Status
from shared.vocabulary import (
    AddedBecause,
    Citizenship,
    DepartureReason,
    Education,
    MaritalStatus,
    Relationship,
    Religion,
    Sex,
)

FORM_CHOICES = (Relationship, Sex, MaritalStatus, Religion, Education, Citizenship, DepartureReason, AddedBecause)

CATALOGUE = REPO_ROOT / "web" / "js" / "messages.js"
CONSOLE_CATALOGUE = REPO_ROOT / "web" / "console" / "messages.js"
LANGUAGES = ("id", "en")
CODE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+|[a-z]{4,}")
# Calls whose first argument is an error code: FieldProblem(code, message, field) and
# InvalidIdentifier(code, message); the local API's _send_error_json(status, code, ...) and
# _error_body(code, message) take it second and first.
_CODE_ARGUMENT = {"FieldProblem": 0, "InvalidIdentifier": 0, "_send_error_json": 1, "_error_body": 0}
_TEMPLATE_CODE = re.compile(r'\\?"code\\?":\s*\\?"([a-z_]+)\\?"')


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:  # JSON.parse and json.loads would both keep the last one silently
        raise ValueError(f"a messages file has repeated keys: {repeated}")
    return dict(pairs)


def read_messages_file(path: Path) -> dict[str, Any]:
    """A messages file is `window.<NAME> = <JSON>;`: JSON so that these tests read it."""
    text = path.read_text(encoding="utf-8")
    start, end = text.index("{"), text.rindex("}")
    found: dict[str, Any] = json.loads(text[start : end + 1], object_pairs_hook=_unique_keys)
    return found


def load_catalogue(path: Path = CATALOGUE) -> dict[str, dict[str, dict[str, str]]]:
    """web/js/messages.js (the resident page's and the officers' app's texts, errors, choices),
    with the console's own texts (web/console/messages.js) as each language's `console` section."""
    catalogue: dict[str, dict[str, dict[str, str]]] = read_messages_file(path)
    console = read_messages_file(CONSOLE_CATALOGUE)
    assert set(console) == set(catalogue), "the console's texts are in the same languages"
    for language, texts in console.items():
        catalogue[language]["console"] = texts
    return catalogue


def test_a_repeated_key_in_a_messages_file_is_refused(tmp_path: Path) -> None:
    probe = tmp_path / "messages.js"
    probe.write_text('window.X = {"id": {"ui": {"a": "1", "a": "2"}}};', encoding="utf-8")
    with pytest.raises(ValueError, match="repeated keys"):
        read_messages_file(probe)


def _call_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def _constants(node: ast.AST, names: dict[str, ast.AST], depth: int = 0) -> set[str]:
    """The code-like strings an expression can evaluate to: string constants, a table's values,
    a name's assigned value (`_PYDANTIC_CODES.get(kind, "invalid_value")`, `slug` after
    `slug = {414: "uri_too_long"}.get(code, "bad_request")`); never a key it reads (`e["type"]`)."""
    if depth > 8:
        return set()
    if isinstance(node, ast.Constant):
        return {node.value} if isinstance(node.value, str) and CODE.fullmatch(node.value) else set()
    if isinstance(node, ast.Dict):
        return set().union(*(_constants(v, names, depth + 1) for v in node.values))
    if isinstance(node, ast.Name):
        return _constants(names[node.id], names, depth + 1) if node.id in names else set()
    if isinstance(node, ast.Attribute):
        return _constants(node.value, names, depth + 1)
    if isinstance(node, ast.Call):
        parts = [node.func, *node.args]
        return set().union(*(_constants(part, names, depth + 1) for part in parts))
    if isinstance(node, ast.IfExp):
        return _constants(node.body, names, depth + 1) | _constants(node.orelse, names, depth + 1)
    if isinstance(node, ast.BoolOp):
        return set().union(*(_constants(v, names, depth + 1) for v in node.values))
    return set()  # a subscript, an f-string, arithmetic: not a code


def _assignments(statements: list[ast.stmt]) -> dict[str, ast.AST]:
    """Names assigned directly in these statements (a module's or a function's own body)."""
    names: dict[str, ast.AST] = {}
    for statement in statements:
        for node in ast.walk(statement):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node is not statement:
                continue
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        names[target.id] = node.value
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
                names[node.target.id] = node.value
    return names


def codes_in_source(source: str) -> set[str]:
    """The error codes one module can answer with:
    - `code = "..."` in a class body (CensusError subclasses);
    - `code="..."` as a keyword argument (`NotFound("...", code="route_not_found")`);
    - the code argument of FieldProblem / InvalidIdentifier / the local API's error helpers,
      through a name or a `.get(..., default)` where it is one."""
    tree = ast.parse(source)
    names = _assignments([s for s in tree.body if not isinstance(s, ast.FunctionDef | ast.ClassDef)])
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for statement in node.body:
                targets = (
                    statement.targets
                    if isinstance(statement, ast.Assign)
                    else [statement.target]
                    if isinstance(statement, ast.AnnAssign)
                    else []
                )
                value = getattr(statement, "value", None)
                named_code = any(isinstance(t, ast.Name) and t.id == "code" for t in targets)
                if named_code and isinstance(value, ast.Constant) and isinstance(value.value, str):
                    found.add(value.value)
        elif isinstance(node, ast.Call):
            for keyword in node.keywords:
                constant = keyword.value
                if keyword.arg == "code" and isinstance(constant, ast.Constant) and isinstance(constant.value, str):
                    found.add(constant.value)
            position = _CODE_ARGUMENT.get(_call_name(node) or "")
            if position is not None and len(node.args) > position:
                found |= _constants(node.args[position], names)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            local = {**names, **_assignments(node.body)}
            for call in ast.walk(node):
                if isinstance(call, ast.Call):
                    position = _CODE_ARGUMENT.get(_call_name(call) or "")
                    if position is not None and len(call.args) > position:
                        found |= _constants(call.args[position], local)
    return found


def server_codes() -> dict[str, str]:
    """code -> the first file that answers it, across the server's source and the template."""
    # The operations CLI answers no HTTP request; the local API does.
    files = [*sorted((REPO_ROOT / "shared").rglob("*.py")), *sorted((REPO_ROOT / "functions").rglob("*.py"))]
    codes: dict[str, str] = {}
    for path in [*files, REPO_ROOT / "census_ops" / "local_api.py"]:
        relative = path.relative_to(REPO_ROOT).as_posix()
        for code in codes_in_source(path.read_text(encoding="utf-8")):
            codes.setdefault(code, relative)
    for code in _TEMPLATE_CODE.findall((REPO_ROOT / "template.yaml").read_text(encoding="utf-8")):
        codes.setdefault(code, "template.yaml")
    return codes


def test_the_scanner_finds_each_way_a_code_is_spelled() -> None:
    source = """
CODES = {"missing": "from_a_table"}
class Refused(CensusError):
    code = "class_attribute"
def handler(kind):
    slug = {414: "from_a_local_table"}.get(kind, "local_default")
    _send_error_json(400, slug, "a message with spaces")
    raise NotFound("No such thing.", code="keyword_code")
problems = [FieldProblem("first_argument", "The message.", "members[0].nik")]
problems.append(FieldProblem(CODES.get(kind, "table_default"), "The message."))
raise InvalidIdentifier("identifier_code", f"The NIK is not valid: {why}.")
status = "pending"  # not a code: nothing answers with it
"""
    assert codes_in_source(source) == {
        "from_a_table",
        "class_attribute",
        "from_a_local_table",
        "local_default",
        "keyword_code",
        "first_argument",
        "table_default",
        "identifier_code",
    }


def test_the_scanner_finds_the_codes_the_server_is_known_to_answer() -> None:
    codes = server_codes()
    for code in (
        "invalid_credentials",  # an error class
        "nik_sex_mismatch",  # InvalidIdentifier in nik.py
        "head_count",  # FieldProblem in responses.py
        "missing_field",  # shape problems named in validation.py
        "invalid_value",  # ... and their default
        "write_conflict",  # code= keyword
        "route_not_found",  # code= keyword in http.py, and the template's gateway response
        "method_not_allowed",  # the local API
        "too_many_requests",  # API Gateway's own answer, from the template
    ):
        assert code in codes, code
    assert "pending" not in codes and "clean" not in codes


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_server_code_has_a_message_in_both_languages(language: str) -> None:
    errors = load_catalogue()[language]["errors"]
    missing = {code: where for code, where in server_codes().items() if not (errors.get(code) or "").strip()}
    assert not missing, (
        f"web/js/messages.js has no {language!r} message for these server codes (code: where it is answered): {missing}"
    )


def test_both_languages_have_the_same_keys_and_no_empty_text() -> None:
    catalogue = load_catalogue()
    assert set(catalogue) == set(LANGUAGES)
    for section in catalogue["id"]:
        keys = {language: set(catalogue[language][section]) for language in LANGUAGES}
        assert keys["id"] == keys["en"], (section, keys["id"] ^ keys["en"])
        for language in LANGUAGES:
            empty = [k for k, v in catalogue[language][section].items() if not str(v).strip()]
            assert not empty, (language, section, empty)


def test_the_messages_differ_between_the_languages() -> None:
    """A guard against a copied block: most Indonesian texts are not the English ones."""
    catalogue = load_catalogue()
    errors_id, errors_en = catalogue["id"]["errors"], catalogue["en"]["errors"]
    same = [code for code in errors_id if errors_id[code] == errors_en[code]]
    assert len(same) <= len(errors_id) // 20, same


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_choice_and_status_has_a_label(language: str) -> None:
    """The form's choices come from shared/vocabulary.py, the status page's from shared/status.py."""
    labels = load_catalogue()[language]["choices"]
    for enum in (*FORM_CHOICES, Status):
        for member in enum:
            assert labels.get(f"{enum.__name__}.{member.value}"), (language, enum.__name__, member.value)


def test_the_page_offers_exactly_the_servers_choices() -> None:
    """web/js/household-form.js (the resident form and the officers' interview) lists each
    select's options; they must be the vocabulary's values, in order."""
    form = (REPO_ROOT / "web" / "js" / "household-form.js").read_text(encoding="utf-8")
    match = re.search(r"const CHOICES = (\{.*?\});", form, re.S)
    assert match, "web/js/household-form.js must define `const CHOICES = {...};` (JSON)"
    choices = json.loads(match.group(1))
    assert set(choices) == {enum.__name__ for enum in FORM_CHOICES}
    for enum in FORM_CHOICES:
        assert choices[enum.__name__] == [m.value for m in enum], enum.__name__
