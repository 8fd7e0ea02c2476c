"""template.yaml as the single source of truth for local runs and tests: the table's keys
and indexes and the API's routes are read from it, never restated in code."""

from __future__ import annotations

import copy
import functools
import importlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from samtranslator.yaml_helper import yaml_parse

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TEMPLATE = REPO_ROOT / "template.yaml"

TABLE_TYPE = "AWS::DynamoDB::Table"
FUNCTION_TYPE = "AWS::Serverless::Function"
API_TYPE = "AWS::Serverless::Api"

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]

_log = logging.getLogger(__name__)

# Per index, the CloudFormation properties that CreateTable also takes; the rest
# (ContributorInsightsSpecification, WarmThroughput, ...) are CloudFormation-only.
_INDEX_KEYS = ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput")


class TemplateError(ValueError):
    """The template lacks something the local tooling needs, said in its own terms."""


@functools.lru_cache(maxsize=16)
def _parse(path: Path, mtime_ns: int, size: int) -> dict[str, Any]:
    """Keyed by mtime and size too, so an edited template is read again."""
    parsed = yaml_parse(path.read_text(encoding="utf-8"))
    if not isinstance(parsed, dict) or not isinstance(parsed.get("Resources"), dict):
        raise TemplateError(f"{path}: not a CloudFormation template (no Resources)")
    return parsed


def load_template(path: Path | None = None) -> dict[str, Any]:
    """Parse with SAM's own loader so !Ref/!GetAtt/!Sub read as CloudFormation's long form.

    Cached per path; callers get a deep copy, so no caller can alter another's template.
    """
    resolved = (path or DEFAULT_TEMPLATE).resolve()
    stat = resolved.stat()
    return copy.deepcopy(_parse(resolved, stat.st_mtime_ns, stat.st_size))


def _is_intrinsic(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)).startswith(("Ref", "Fn::"))


def _literal(value: Any, where: str) -> Any:
    """Local engines get literal values only: an unresolved !Ref/!If would be sent as a dict."""
    if _is_intrinsic(value):
        raise TemplateError(f"{where} uses {next(iter(value))}: the local tooling needs a literal value")
    if isinstance(value, dict):
        return {key: _literal(item, f"{where}.{key}") for key, item in value.items()}
    if isinstance(value, list):
        return [_literal(item, f"{where}[{i}]") for i, item in enumerate(value)]
    return value


def _table_resource(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    tables = [
        (name, resource)
        for name, resource in template.get("Resources", {}).items()
        if isinstance(resource, dict) and resource.get("Type") == TABLE_TYPE
    ]
    if len(tables) != 1:
        names = ", ".join(name for name, _ in tables) or "none"
        raise TemplateError(f"expected exactly one {TABLE_TYPE} in the template, found {names}")
    name, resource = tables[0]
    properties = resource.get("Properties")
    if not isinstance(properties, dict):
        raise TemplateError(f"{name} has no Properties")
    return name, properties


def table_definition(template: dict[str, Any] | None = None) -> dict[str, Any]:
    """CreateTable arguments copied from the table resource, so local tables have the deployed keys."""
    name, properties = _table_resource(template if template is not None else load_template())
    definition: dict[str, Any] = {}
    for key in ("AttributeDefinitions", "KeySchema"):
        if key not in properties:
            raise TemplateError(f"{name} has no {key}")
        definition[key] = _literal(properties[key], f"{name}.{key}")
    for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if properties.get(key):
            definition[key] = [
                {f: _literal(index[f], f"{name}.{key}.{f}") for f in _INDEX_KEYS if f in index}
                for index in properties[key]
            ]
    # The table's stream (CloudFormation's StreamSpecification has no StreamEnabled: CreateTable's has).
    if "StreamSpecification" in properties:
        view = _literal(properties["StreamSpecification"]["StreamViewType"], f"{name}.StreamSpecification")
        definition["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": view}
    # CloudFormation's default is PROVISIONED, which CreateTable wants spelled out with its throughput.
    definition["BillingMode"] = _literal(properties.get("BillingMode", "PROVISIONED"), f"{name}.BillingMode")
    if "ProvisionedThroughput" in properties:
        definition["ProvisionedThroughput"] = _literal(
            properties["ProvisionedThroughput"], f"{name}.ProvisionedThroughput"
        )
    return copy.deepcopy(definition)


def _wait_active(client: Any, table_name: str, timeout: float = 120.0) -> None:
    """Polls faster than boto3's table_exists waiter (20 s delay) and also waits for the indexes."""
    deadline = time.monotonic() + timeout
    while True:
        table = client.describe_table(TableName=table_name)["Table"]
        statuses = [table["TableStatus"]] + [
            i.get("IndexStatus", "ACTIVE") for i in table.get("GlobalSecondaryIndexes", [])
        ]
        if all(status == "ACTIVE" for status in statuses):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"table {table_name} is not ACTIVE after {timeout:.0f} s")
        time.sleep(0.2)


def _apply_time_to_live(client: Any, table_name: str, properties: dict[str, Any]) -> None:
    spec = properties.get("TimeToLiveSpecification")
    if not isinstance(spec, dict) or not _literal(spec.get("Enabled"), "TimeToLiveSpecification.Enabled"):
        return
    attribute = _literal(spec["AttributeName"], "TimeToLiveSpecification.AttributeName")
    try:
        current = client.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"]
        if current.get("TimeToLiveStatus") in {"ENABLED", "ENABLING"}:
            if current.get("AttributeName") != attribute:
                _log.warning(
                    "table %s has TTL on %r, the template says %r: leaving it as it is",
                    table_name,
                    current.get("AttributeName"),
                    attribute,
                )
            return
        client.update_time_to_live(
            TableName=table_name, TimeToLiveSpecification={"AttributeName": attribute, "Enabled": True}
        )
    except ClientError as error:
        # Items still carry the attribute; only expiry is lost, which no local run relies on.
        _log.warning(
            "could not enable TTL on %r for table %s (%s): expired items will not be removed",
            attribute,
            table_name,
            error.response.get("Error", {}).get("Message", error),
        )


def create_table(client: Any, table_name: str, template: dict[str, Any] | None = None) -> bool:
    """Create the table from the template if missing; True if this call created it.

    TTL is applied on every call, so a table created before the template gained TTL gets it too.
    """
    template = template if template is not None else load_template()
    _, properties = _table_resource(template)
    created = True
    try:
        client.create_table(TableName=table_name, **table_definition(template))
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceInUseException":
            raise
        created = False
    _wait_active(client, table_name)
    _apply_time_to_live(client, table_name, properties)
    return created


@dataclass(frozen=True)
class ApiRoute:
    """One Api event of one function: what API Gateway routes, and to which handler."""

    function_id: str
    method: str
    path: str
    code_uri: str
    handler: str
    # The API Gateway authorizer guarding the route (e.g. "CognitoAuthorizer"); None when public.
    authorizer: str | None = None


def _default_authorizer(template: dict[str, Any], rest_api_id: Any, where: str) -> Any:
    """The DefaultAuthorizer SAM gives an event that names none: its API's, else Globals.Api's.

    Globals.Api applies to every AWS::Serverless::Api, the implicit one (no RestApiId) included.
    """
    global_auth = ((template.get("Globals") or {}).get("Api") or {}).get("Auth") or {}
    api_auth: dict[str, Any] = {}
    if rest_api_id is not None:
        name = rest_api_id.get("Ref") if isinstance(rest_api_id, dict) and len(rest_api_id) == 1 else None
        api = template.get("Resources", {}).get(name) if isinstance(name, str) else None
        if not isinstance(api, dict) or api.get("Type") != API_TYPE:
            raise TemplateError(f"{where}: RestApiId must be a !Ref to an {API_TYPE} in the template")
        api_auth = (api.get("Properties") or {}).get("Auth") or {}
    return api_auth.get("DefaultAuthorizer", global_auth.get("DefaultAuthorizer"))


def _route_authorizer(template: dict[str, Any], event_properties: dict[str, Any], where: str) -> str | None:
    """What guards the route in API Gateway, so the local API refuses what production would."""
    auth = event_properties.get("Auth") or {}
    if not isinstance(auth, dict) or _is_intrinsic(auth):
        raise TemplateError(f"{where}.Auth must be a literal mapping")
    if "Authorizer" in auth:
        authorizer = _literal(auth["Authorizer"], f"{where}.Auth.Authorizer")
    else:
        authorizer = _literal(
            _default_authorizer(template, event_properties.get("RestApiId"), where), f"{where}: DefaultAuthorizer"
        )
    if authorizer is not None and not isinstance(authorizer, str):
        raise TemplateError(f"{where}: an authorizer is named by a string, got {authorizer!r}")
    return None if authorizer in (None, "NONE") else authorizer


def api_routes(template: dict[str, Any] | None = None) -> list[ApiRoute]:
    """Every function's Api events, in template order, so the local API serves what SAM deploys."""
    template = template if template is not None else load_template()
    globals_ = (template.get("Globals") or {}).get("Function") or {}
    routes: list[ApiRoute] = []
    for function_id, resource in template.get("Resources", {}).items():
        if not isinstance(resource, dict) or resource.get("Type") != FUNCTION_TYPE:
            continue
        properties = resource.get("Properties") or {}
        events = properties.get("Events") or {}
        api_events = {name: e for name, e in events.items() if isinstance(e, dict) and e.get("Type") == "Api"}
        if not api_events:
            continue
        where = function_id
        handler = _literal(properties.get("Handler", globals_.get("Handler")), f"{where}.Handler")
        code_uri = _literal(properties.get("CodeUri", globals_.get("CodeUri")), f"{where}.CodeUri")
        if not isinstance(handler, str) or "." not in handler:
            raise TemplateError(f"{where}: Handler must be 'module.function', got {handler!r}")
        if not isinstance(code_uri, str):
            raise TemplateError(f"{where}: CodeUri must be a local folder, got {code_uri!r}")
        for event_name, event in api_events.items():
            event_properties = event.get("Properties") or {}
            path = _literal(event_properties.get("Path"), f"{where}.Events.{event_name}.Path")
            method = _literal(event_properties.get("Method"), f"{where}.Events.{event_name}.Method")
            if not isinstance(path, str) or not path.startswith("/") or not isinstance(method, str):
                raise TemplateError(f"{where}.Events.{event_name}: needs a Path starting with / and a Method")
            authorizer = _route_authorizer(template, event_properties, f"{where}.Events.{event_name}")
            routes.append(ApiRoute(function_id, method.upper(), path, code_uri, handler, authorizer))
    return routes


def handler_module_name(route: ApiRoute) -> str:
    """The dotted module the Lambda runtime would import, given that functions/ is a package here."""
    folder = [part for part in route.code_uri.replace("\\", "/").split("/") if part not in {"", "."}]
    module = route.handler.rsplit(".", 1)[0].replace("/", ".")
    parts = [*folder, *module.split(".")]
    if not all(part.isidentifier() for part in parts):
        raise TemplateError(
            f"{route.function_id}: CodeUri {route.code_uri!r} and Handler {route.handler!r}"
            " do not name an importable module"
        )
    return ".".join(parts)


@functools.cache
def load_handler(route: ApiRoute) -> Handler:
    """Import once per route, as a warm Lambda container keeps its module loaded."""
    module = importlib.import_module(handler_module_name(route))
    function_name = route.handler.rsplit(".", 1)[1]
    handler = getattr(module, function_name, None)
    if not callable(handler):
        raise TemplateError(f"{route.function_id}: {module.__name__} has no function {function_name!r}")
    return handler
