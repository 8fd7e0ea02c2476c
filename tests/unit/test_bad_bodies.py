"""Bad input never gives a 500, on every route of every handler that reads a body: malformed
JSON is the catalogue's 400 `malformed_json`; a body of the wrong shape (wrong types in every
field, unknown fields, an array instead of an object) is its 422 (ValidationFailed) naming
each problem with a stable code and the field, the first one's code at the top. The callers
are the ones the routes want (the officer assigned, the area's supervisor, a signed-in
resident), so the body is what is refused.
Also: each function's route table (shared/router.py) is exactly its events in template.yaml."""

from __future__ import annotations

import importlib
import os
import re
import secrets
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest

from census_ops.openapi import EMPTY_OBJECT, OPERATIONS
from census_ops.template import api_routes
from shared.errors import MalformedRequest, ValidationFailed
from tests.integration.scenario import Field, call, moto_field, who

SESSION_KEY = secrets.token_hex(32)
PASSWORD = "kata sandi yang panjang 42"
# The field codes of a shape problem (shared/validation.py): every one is in docs/api.md.
SHAPE_CODES = {
    "unknown_field",
    "missing_field",
    "invalid_type",
    "invalid_choice",
    "invalid_value",
    "invalid_date",
    "invalid_length",
    "member_count",
}
# Each template function -> its module (functions/<name>/app.py).
FUNCTIONS = {
    "IntakeFunction": "intake",
    "StatusFunction": "status",
    "SessionsFunction": "sessions",
    "ReportsFunction": "reports",
    "FieldworkFunction": "fieldwork",
    "WorklistFunction": "worklists",
    "ConsoleFunction": "console",
}
BODY_ROUTES = sorted(
    (method, path) for (method, path), spec in OPERATIONS.items() if spec.body not in (None, EMPTY_OBJECT)
)


class World:
    def __init__(self, field: Field) -> None:
        self.field = field
        officers = sorted(field.officers(), key=lambda o: -len(field.assigned(o)))
        self.officer = officers[0]
        self.officer_kk = field.assigned(self.officer)[0]
        self.supervisor, self.district = field.district_supervisors()[0]
        taken = set(field.assigned(self.officer))
        self.residents = [h for h in field.households if h.kk not in taken]
        self._token: str | None = None

    def session_token(self) -> str:
        if self._token is None:
            household = self.residents[-1]
            nik = household.members[0].nik
            status, _, answer = call(
                "sessions", "POST", "/v1/sessions", body={"kk": household.kk, "nik": nik, "new_password": PASSWORD}
            )
            assert status == 201, answer
            self._token = str(answer["token"])
        return self._token

    def request(self, method: str, path: str) -> tuple[str, dict[str, str], dict[str, Any]]:
        """(function, path parameters, call keywords) for a caller the route accepts."""
        function = FUNCTIONS[next(r.function_id for r in api_routes() if (r.method, r.path) == (method, path))]
        params: dict[str, str] = {}
        if "{kk}" in path:
            params["kk"] = self.officer_kk if function in ("fieldwork", "console") else self.residents[0].kk
        if "{area_code}" in path:
            params["area_code"] = self.district
        if "{reference}" in path:
            params["reference"] = "R" + "0" * 11
        keywords: dict[str, Any] = {"headers": {"Idempotency-Key": f"bad-{secrets.token_hex(4)}"}}
        if function == "fieldwork":
            keywords["claims"] = who(self.officer)
        elif function in ("worklists", "console"):
            keywords["claims"] = who(self.supervisor, "supervisor")
        elif path == "/v1/session/household/draft":
            keywords["headers"]["Authorization"] = f"Bearer {self.session_token()}"
        return function, params, keywords


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("bad-bodies")
    with moto_field(folder, "bad-bodies", households=60, officers=4, session_key=SESSION_KEY) as (field, _):
        yield World(field)


@pytest.fixture
def w(world: World) -> World:
    os.environ["SESSION_SIGNING_KEY"] = SESSION_KEY
    return world


def _model(method: str, path: str) -> Any:
    module, _, name = str(OPERATIONS[(method, path)].body).partition(":")
    return getattr(importlib.import_module(module), name)


def _wrong_types(model: Any) -> dict[str, Any]:
    """Every field of the body given a value no field takes (a list of lists), and one more
    field that does not exist."""
    return {**{info.encode_name: [[]] for info in msgspec.structs.fields(model)}, "shoe_size": 42}


def test_every_handler_that_reads_a_body_is_covered() -> None:
    covered = {FUNCTIONS[r.function_id] for r in api_routes() if (r.method, r.path) in BODY_ROUTES}
    assert covered == set(FUNCTIONS.values())


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
def test_malformed_json_is_the_catalogues_400(w: World, method: str, path: str) -> None:
    function, params, keywords = w.request(method, path)
    for raw in ('{"members": [', "{'single': 'quotes'}", "\ufeff{}", "NaN", "{} {}"):
        status, _, answer = call(function, method, path, params, raw_body=raw, **keywords)
        assert (status, answer["error"]["code"]) == (MalformedRequest.status, MalformedRequest.code), (raw, answer)


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
def test_wrong_types_and_unknown_fields_are_the_catalogues_422(w: World, method: str, path: str) -> None:
    function, params, keywords = w.request(method, path)
    model = _model(method, path)
    status, _, answer = call(function, method, path, params, body=_wrong_types(model), **keywords)
    assert status == ValidationFailed.status, answer
    details = answer["error"]["details"]
    assert (answer["error"]["code"], answer["error"]["field"]) == (details[0]["code"], details[0]["field"])
    assert ("unknown_field", "shoe_size") in {(d["code"], d["field"]) for d in details}
    fields = {info.encode_name for info in msgspec.structs.fields(model)}
    named = {re.split(r"[.\[]", d["field"])[0] for d in details}
    assert named == fields | {"shoe_size"}, details  # every field named (a list's by its items)
    assert {d["code"] for d in details} <= SHAPE_CODES, details
    for body in ([], "a string", 7, None, {"shoe_size": 1}):
        status, _, answer = call(function, method, path, params, body=body, **keywords)
        assert 400 <= status < 500, (body, status, answer)
        assert answer["error"]["code"] in {MalformedRequest.code, *SHAPE_CODES}, (body, answer)


@pytest.mark.parametrize("name", sorted(FUNCTIONS.values()))
def test_each_functions_route_table_is_its_template_events(w: World, name: str) -> None:
    module = importlib.import_module(f"functions.{name}.app")
    wanted = sorted((r.method, r.path) for r in api_routes() if FUNCTIONS.get(r.function_id) == name)
    assert module.app.routes() == wanted
