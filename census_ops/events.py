"""The one builder of API Gateway REST (v1) proxy events and Lambda contexts.

The local API (`census serve`), the benchmarks and the tests all call the functions'
handlers as API Gateway would: with the event built here, so a change to what the
handlers read is made once. `api_event` is the whole event for a request that has
arrived (the local API passes what it received); `route_event` is the short form for a
route of the template and its path parameters (tests, bench, `census capacity`).
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ACCOUNT_ID = "123456789012"
# API Gateway's integration timeout: a local request gets as long as the real one would.
INTEGRATION_TIMEOUT_MS = 29_000


@dataclass
class LambdaContext:
    """The attributes of the Lambda context that Powertools' Logger and Metrics read."""

    function_name: str = "IntakeFunction"
    aws_request_id: str = "req-1"
    invoked_function_arn: str = f"arn:aws:lambda:ap-southeast-3:{ACCOUNT_ID}:function:IntakeFunction"
    log_group_name: str = "/aws/lambda/IntakeFunction"
    log_stream_name: str = "local"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    identity: Any = None
    client_context: Any = None
    deadline: float = field(default_factory=lambda: time.monotonic() + INTEGRATION_TIMEOUT_MS / 1000)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


def lambda_context(function_name: str, request_id: str = "req-1") -> LambdaContext:
    return LambdaContext(
        function_name=function_name,
        aws_request_id=request_id,
        invoked_function_arn=f"arn:aws:lambda:ap-southeast-3:{ACCOUNT_ID}:function:{function_name}",
        log_group_name=f"/aws/lambda/{function_name}",
    )


def body_text(body: Any = None, raw_body: bytes | str | None = None) -> tuple[str | None, bool]:
    """The event's `body` and `isBase64Encoded`: JSON for a value, text as it is, bytes as
    UTF-8 where they decode and base64 where they do not (as API Gateway passes binary)."""
    if raw_body is None:
        return (None if body is None else json.dumps(body)), False
    if isinstance(raw_body, str):
        return raw_body, False
    if not raw_body:
        return None, False
    try:
        return raw_body.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(raw_body).decode("ascii"), True


def _multi(values: Mapping[str, str | list[str]] | None) -> dict[str, list[str]]:
    return {name: list(value) if isinstance(value, list) else [value] for name, value in (values or {}).items()}


def api_event(
    method: str,
    path: str,
    *,
    resource: str,
    path_parameters: Mapping[str, str] | None = None,
    body: Any = None,
    raw_body: bytes | str | None = None,
    headers: Mapping[str, str | list[str]] | None = None,
    query: Mapping[str, str | list[str]] | None = None,
    claims: Mapping[str, str] | None = None,
    request_id: str | None = None,
    source_ip: str = "127.0.0.1",
    stage: str = "test",
    host: str = "localhost",
    user_agent: str | None = None,
    protocol: str = "HTTP/1.1",
) -> dict[str, Any]:
    """An API Gateway REST (v1) proxy event, as the Lambda receives it (with the Cognito
    authorizer's verified claims where the route has one). Header and query values may be
    lists (repeated names): the single-value maps keep the last, as API Gateway does."""
    multi_headers = _multi(headers)
    multi_query = _multi(query)
    text, encoded = body_text(body, raw_body)
    request_id = request_id or str(uuid.uuid4())
    now = time.time()
    context: dict[str, Any] = {
        "resourceId": uuid.uuid5(uuid.NAMESPACE_URL, resource).hex[:6],
        "resourcePath": resource,
        "httpMethod": method,
        "extendedRequestId": request_id,
        "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "path": f"/{stage}{path}",
        "accountId": ACCOUNT_ID,
        "protocol": protocol,
        "stage": stage,
        "domainPrefix": host,
        "requestTimeEpoch": int(now * 1000),
        "requestId": request_id,
        "identity": {
            "cognitoIdentityPoolId": None,
            "accountId": None,
            "cognitoIdentityId": None,
            "caller": None,
            "sourceIp": source_ip,
            "principalOrgId": None,
            "accessKey": None,
            "cognitoAuthenticationType": None,
            "cognitoAuthenticationProvider": None,
            "userArn": None,
            "userAgent": user_agent,
            "user": None,
        },
        "domainName": host,
        "apiId": "local",
    }
    if claims is not None:
        context["authorizer"] = {"claims": dict(claims)}  # where the Cognito authorizer puts them
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": {name: values[-1] for name, values in multi_headers.items()} or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {name: values[-1] for name, values in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": dict(path_parameters) if path_parameters else None,
        "stageVariables": None,
        "requestContext": context,
        "body": text,
        "isBase64Encoded": encoded,
    }


def route_event(
    method: str,
    resource: str,
    params: Mapping[str, str] | None = None,
    body: Any = None,
    *,
    raw_body: bytes | str | None = None,
    headers: Mapping[str, str] | None = None,
    claims: Mapping[str, str] | None = None,
    query: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The event for one of the template's routes (`/v1/households/{kk}/responses`) with
    its path parameters filled in, sent as JSON unless the headers say otherwise."""
    path = resource
    for name, value in (params or {}).items():
        path = path.replace("{" + name + "}", value)
    return api_event(
        method,
        path,
        resource=resource,
        path_parameters=params,
        body=body,
        raw_body=raw_body,
        headers={"Content-Type": "application/json", **(headers or {})},
        query=query,
        claims=claims,
    )
