"""The OpenAPI document is generated from the routes and the request models, its committed
copy is what the generator makes now, and its schemas say what the code accepts."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from census_ops.openapi import DOCUMENT_PATH, OPERATIONS, UndocumentedRoute, build_document, missing_operations, render
from census_ops.register import RegisterHousehold
from census_ops.template import ApiRoute, api_routes
from shared.errors import FieldProblem, TooManyAttempts, ValidationFailed
from tests.conftest import submission_body


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build_document()


def _validator(document: dict[str, Any], name: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"#/components/schemas/{name}", "components": document["components"]})


def test_the_committed_document_is_what_the_generator_makes_now(document: dict[str, Any]) -> None:
    committed = DOCUMENT_PATH.read_text(encoding="utf-8")
    assert committed == render(document), "docs/openapi.json is stale: run `census openapi --out docs/openapi.json`"


def test_every_template_route_is_an_operation_and_nothing_else(document: dict[str, Any]) -> None:
    assert missing_operations() == [], "routes without an entry in census_ops/openapi.py OPERATIONS"
    documented = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    assert documented == {(r.method, r.path) for r in api_routes()}
    assert set(OPERATIONS) == documented, "OPERATIONS describes a route the template no longer has"


def test_a_route_without_a_description_fails_by_name() -> None:
    extra = ApiRoute("NewFunction", "DELETE", "/v1/things/{kk}", "functions/new/", "app.lambda_handler")
    with pytest.raises(UndocumentedRoute, match="DELETE /v1/things/"):
        build_document([*api_routes(), extra])


def test_guarded_routes_need_the_bearer_token_and_public_ones_do_not(document: dict[str, Any]) -> None:
    for route in api_routes():
        operation = document["paths"][route.path][route.method.lower()]
        if route.authorizer:
            assert operation["security"] == [{"bearer": []}], route
        else:
            assert {"bearer": []} not in operation.get("security", []), route


def test_the_request_schemas_accept_what_the_models_accept(
    document: dict[str, Any], households: list[RegisterHousehold]
) -> None:
    from shared.responses import parse_submission

    body = submission_body(households[0])
    parse_submission(json.dumps(body))  # the model takes it...
    submission = _validator(document, "Submission")
    assert not list(submission.iter_errors(body))  # ...and so does the document
    for broken in (
        {**body, "surprise": 1},
        {**body, "members": []},
        {**body, "members": [{**body["members"][0], "sex": "x"}]},
        {"respondent_nik": body["respondent_nik"]},
    ):
        assert list(submission.iter_errors(broken)), broken
    operation = document["paths"]["/v1/households/{kk}/responses"]["post"]
    assert operation["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Submission"
    }


def test_every_error_body_matches_the_error_schema(document: dict[str, Any]) -> None:
    error = _validator(document, "Error")
    bodies = [
        ValidationFailed([FieldProblem("invalid_nik", "bad", "members[0].nik"), FieldProblem("x_y", "m")]).body(),
        TooManyAttempts(30).body(),
        {"error": {"code": "route_not_found", "message": "no route matches this path", "field": None}},
    ]
    for body in bodies:
        assert not list(error.iter_errors(body)), body
    assert list(error.iter_errors({"message": "no"}))
    assert list(error.iter_errors({"error": {"code": "Bad Code", "message": "m", "field": None}}))


def test_busy_and_lockout_answers_document_retry_after(document: dict[str, Any]) -> None:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            assert operation["responses"]["503"]["headers"]["Retry-After"]["required"], (method, path)
    intake = document["paths"]["/v1/households/{kk}/responses"]["post"]["responses"]
    assert intake["429"]["headers"]["Retry-After"]["required"]


def test_schemathesis_loads_every_operation(document: dict[str, Any]) -> None:
    import schemathesis

    schema = schemathesis.openapi.from_dict(document)
    from schemathesis.core.result import Ok

    results = list(schema.get_all_operations())
    assert all(isinstance(result, Ok) for result in results), results
    assert len(results) == len(api_routes())


def test_census_openapi_prints_the_document(capsys: pytest.CaptureFixture[str], document: dict[str, Any]) -> None:
    from census_ops.cli import main

    assert main(["openapi"]) == 0
    assert json.loads(capsys.readouterr().out) == document


def test_no_handler_imports_the_generator_or_schemathesis() -> None:
    """The document is built by the CLI only: the Lambda import path stays as it was."""
    modules = sorted({f"functions.{r.code_uri.strip('/').split('/')[-1]}.app" for r in api_routes()})
    script = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "print(sorted(n for n in sys.modules if n.startswith(('census_ops', 'schemathesis', 'hypothesis'))))"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
