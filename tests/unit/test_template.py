"""template.yaml is the single source of truth: these check that what the local tooling derives
from it (table keys, routes, handler modules) is exactly what the template says."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from census_ops.template import (
    REPO_ROOT,
    ApiRoute,
    TemplateError,
    api_routes,
    create_table,
    handler_module_name,
    load_handler,
    load_template,
    table_definition,
)


def _table_properties(template: dict[str, Any]) -> dict[str, Any]:
    tables = [r for r in template["Resources"].values() if r["Type"] == "AWS::DynamoDB::Table"]
    assert len(tables) == 1
    return dict(tables[0]["Properties"])


def test_repo_root_holds_the_template() -> None:
    assert (REPO_ROOT / "template.yaml").is_file()
    assert (REPO_ROOT / "census_ops" / "template.py").is_file()


def test_load_template_reads_intrinsics_and_is_not_shared_between_callers() -> None:
    template = load_template()
    outputs = template["Outputs"]
    assert outputs["TableName"]["Value"] == {"Ref": "CensusTable"}
    template["Resources"].clear()
    assert load_template()["Resources"], "a caller's change leaked into the cache"


def test_table_definition_is_the_templates_keys_and_indexes() -> None:
    properties = _table_properties(load_template())
    definition = table_definition()
    assert definition["KeySchema"] == properties["KeySchema"]
    assert definition["AttributeDefinitions"] == properties["AttributeDefinitions"]
    assert definition["BillingMode"] == properties["BillingMode"]
    expected_indexes = [
        {k: v for k, v in index.items() if k in {"IndexName", "KeySchema", "Projection"}}
        for index in properties.get("GlobalSecondaryIndexes", [])
    ]
    assert definition.get("GlobalSecondaryIndexes", []) == expected_indexes
    # CloudFormation-only settings are not CreateTable arguments.
    assert set(definition) <= {
        "AttributeDefinitions",
        "KeySchema",
        "GlobalSecondaryIndexes",
        "LocalSecondaryIndexes",
        "BillingMode",
        "ProvisionedThroughput",
        "StreamSpecification",
    }
    # The stream, when the template has one, is CreateTable's shape of it (with StreamEnabled).
    if "StreamSpecification" in properties:
        assert definition["StreamSpecification"] == {
            "StreamEnabled": True,
            "StreamViewType": properties["StreamSpecification"]["StreamViewType"],
        }
    else:
        assert "StreamSpecification" not in definition


def test_table_definition_refuses_an_unresolved_intrinsic() -> None:
    template = load_template()
    properties = _table_properties(template)
    properties["BillingMode"] = {"Ref": "Billing"}
    name = next(n for n, r in template["Resources"].items() if r["Type"] == "AWS::DynamoDB::Table")
    template["Resources"][name]["Properties"] = properties
    with pytest.raises(TemplateError, match="Ref"):
        table_definition(template)


def test_api_routes_find_the_intake_route() -> None:
    routes = api_routes()
    intake = [r for r in routes if r.path == "/v1/households/{kk}/responses"]
    assert len(intake) == 1
    route = intake[0]
    assert route.method == "POST"
    assert route.function_id == "IntakeFunction"
    assert handler_module_name(route) == "functions.intake.app"
    functions = {
        name: r for name, r in load_template()["Resources"].items() if r["Type"] == "AWS::Serverless::Function"
    }
    api_events = sum(
        1 for f in functions.values() for e in (f["Properties"].get("Events") or {}).values() if e["Type"] == "Api"
    )
    assert len(routes) == api_events


def test_every_route_names_an_existing_handler_file() -> None:
    for route in api_routes():
        module = handler_module_name(route)
        assert (REPO_ROOT / (module.replace(".", "/") + ".py")).is_file(), module


def test_a_template_with_globals_and_a_greedy_route() -> None:
    template: dict[str, Any] = {
        "Globals": {"Function": {"Handler": "main.handle", "CodeUri": "./functions/status/"}},
        "Resources": {
            "Table": {"Type": "AWS::DynamoDB::Table", "Properties": {}},
            "StatusFunction": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "Events": {
                        "Anything": {
                            "Type": "Api",
                            "Properties": {"Path": "/v1/status/{proxy+}", "Method": "any"},
                        },
                        "Queue": {"Type": "SQS", "Properties": {"Queue": {"Fn::GetAtt": ["Q", "Arn"]}}},
                    }
                },
            },
            "WorkerFunction": {
                "Type": "AWS::Serverless::Function",
                "Properties": {"Handler": "jobs.run", "CodeUri": "functions/worker"},
            },
            "ReportFunction": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "Handler": "report.app.handler",
                    "Events": {"Get": {"Type": "Api", "Properties": {"Path": "/v1/reports/{area}", "Method": "get"}}},
                },
            },
        },
    }
    routes = api_routes(template)
    assert routes == [
        ApiRoute("StatusFunction", "ANY", "/v1/status/{proxy+}", "./functions/status/", "main.handle"),
        ApiRoute("ReportFunction", "GET", "/v1/reports/{area}", "./functions/status/", "report.app.handler"),
    ]
    assert handler_module_name(routes[0]) == "functions.status.main"
    assert handler_module_name(routes[1]) == "functions.status.report.app"
    assert handler_module_name(ApiRoute("F", "GET", "/", ".", "app.handler")) == "app"


def _function(events: dict[str, Any]) -> dict[str, Any]:
    return {
        "Type": "AWS::Serverless::Function",
        "Properties": {"CodeUri": "functions/f/", "Handler": "app.handler", "Events": events},
    }


def _api_event(path: str, auth: dict[str, Any] | None = None, api: str | None = "Api") -> dict[str, Any]:
    properties: dict[str, Any] = {"Path": path, "Method": "get"}
    if api:
        properties["RestApiId"] = {"Ref": api}
    if auth is not None:
        properties["Auth"] = auth
    return {"Type": "Api", "Properties": properties}


def test_route_authorizers_follow_the_event_then_the_apis_default() -> None:
    """As SAM deploys them: the event's Authorizer, else its API's DefaultAuthorizer, else Globals.Api's."""
    cognito = {"CognitoAuthorizer": {"UserPoolArn": {"Fn::GetAtt": ["Pool", "Arn"]}}}
    template: dict[str, Any] = {
        "Globals": {"Api": {"Auth": {"DefaultAuthorizer": "GlobalAuthorizer"}}},
        "Resources": {
            "Api": {
                "Type": "AWS::Serverless::Api",
                "Properties": {"Auth": {"DefaultAuthorizer": "CognitoAuthorizer", "Authorizers": cognito}},
            },
            "OpenApi": {"Type": "AWS::Serverless::Api", "Properties": {"Auth": {"Authorizers": cognito}}},
            "F": _function(
                {
                    "Default": _api_event("/default"),
                    "Public": _api_event("/public", {"Authorizer": "NONE"}),
                    "Named": _api_event("/named", {"Authorizer": "OtherAuthorizer"}),
                    "KeyOnly": _api_event("/key-only", {"ApiKeyRequired": True}),
                    "GlobalDefault": _api_event("/global", api="OpenApi"),
                    "Implicit": _api_event("/implicit", api=None),
                }
            ),
        },
    }
    assert {route.path: route.authorizer for route in api_routes(template)} == {
        "/default": "CognitoAuthorizer",
        "/public": None,
        "/named": "OtherAuthorizer",
        "/key-only": "CognitoAuthorizer",
        "/global": "GlobalAuthorizer",
        "/implicit": "GlobalAuthorizer",
    }
    del template["Globals"]
    routes = {route.path: route.authorizer for route in api_routes(template)}
    assert routes["/global"] is None and routes["/implicit"] is None and routes["/default"] == "CognitoAuthorizer"


def test_a_route_is_public_without_any_auth() -> None:
    template = {
        "Resources": {
            "Api": {"Type": "AWS::Serverless::Api", "Properties": {}},
            "F": _function({"E": _api_event("/x")}),
        }
    }
    (route,) = api_routes(template)
    assert route.authorizer is None
    assert route == ApiRoute("F", "GET", "/x", "functions/f/", "app.handler")  # the field defaults to public


def test_an_unresolvable_api_or_authorizer_is_an_error() -> None:
    elsewhere = {"Resources": {"F": _function({"E": _api_event("/x", api="NotInTheTemplate")})}}
    with pytest.raises(TemplateError, match="RestApiId"):
        api_routes(elsewhere)
    conditional = {
        "Resources": {
            "Api": {"Type": "AWS::Serverless::Api", "Properties": {}},
            "F": _function({"E": _api_event("/x", {"Authorizer": {"Fn::If": ["C", "A", "NONE"]}})}),
        }
    }
    with pytest.raises(TemplateError, match="Fn::If"):
        api_routes(conditional)


def test_the_templates_route_authorizers_are_declared_on_its_apis() -> None:
    template = load_template()
    declared = set((((template.get("Globals") or {}).get("Api") or {}).get("Auth") or {}).get("Authorizers") or {})
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Api":
            declared |= set(((resource["Properties"].get("Auth") or {}).get("Authorizers")) or {})
    for route in api_routes(template):
        assert route.authorizer is None or route.authorizer in declared, route


def test_a_route_without_a_handler_is_an_error() -> None:
    template = {
        "Resources": {
            "F": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "CodeUri": "functions/f/",
                    "Events": {"E": {"Type": "Api", "Properties": {"Path": "/x", "Method": "get"}}},
                },
            }
        }
    }
    with pytest.raises(TemplateError, match="Handler"):
        api_routes(template)


def test_load_handler_imports_the_module_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = f"handlers_{uuid.uuid4().hex[:8]}"
    (tmp_path / package).mkdir()
    (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / package / "app.py").write_text(
        "CALLS = []\ndef handler(event, context):\n    CALLS.append(event)\n    return {'statusCode': 204}\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    route = ApiRoute("F", "GET", "/x", f"{package}/", "app.handler")
    first = load_handler(route)
    assert load_handler(route) is first
    assert first({"a": 1}, None) == {"statusCode": 204}
    missing = ApiRoute("F", "GET", "/x", f"{package}/", "app.nothing_here")
    with pytest.raises(TemplateError, match="nothing_here"):
        load_handler(missing)


@mock_aws
def test_create_table_on_moto_has_the_template_keys_and_ttl() -> None:
    client = boto3.client("dynamodb", region_name="ap-southeast-3")
    properties = _table_properties(load_template())
    name = f"census-{uuid.uuid4().hex[:8]}"

    assert create_table(client, name) is True
    table = client.describe_table(TableName=name)["Table"]
    assert table["TableStatus"] == "ACTIVE"
    assert table["KeySchema"] == properties["KeySchema"]
    assert sorted(table["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == sorted(
        properties["AttributeDefinitions"], key=lambda a: a["AttributeName"]
    )
    indexes = {i["IndexName"]: i for i in table.get("GlobalSecondaryIndexes", [])}
    for index in properties.get("GlobalSecondaryIndexes", []):
        assert indexes[index["IndexName"]]["KeySchema"] == index["KeySchema"]
        assert indexes[index["IndexName"]]["Projection"]["ProjectionType"] == index["Projection"]["ProjectionType"]
    ttl = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    assert ttl == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": properties["TimeToLiveSpecification"]["AttributeName"],
    }

    assert create_table(client, name) is False
    assert client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]["TimeToLiveStatus"] == "ENABLED"


class _NoTtlClient:
    """An engine without TTL support: create_table must still succeed, with a warning."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def describe_time_to_live(self, **_: Any) -> Any:
        from botocore.exceptions import ClientError

        raise ClientError(
            {"Error": {"Code": "UnknownOperationException", "Message": "no TTL here"}}, "DescribeTimeToLive"
        )


@mock_aws
def test_create_table_tolerates_an_engine_without_ttl(caplog: pytest.LogCaptureFixture) -> None:
    client = _NoTtlClient(boto3.client("dynamodb", region_name="ap-southeast-3"))
    with caplog.at_level(logging.WARNING, logger="census_ops.template"):
        assert create_table(client, "census-no-ttl") is True
    assert "no TTL here" in caplog.text
    assert _table_properties(load_template())["TimeToLiveSpecification"]["AttributeName"] in caplog.text
