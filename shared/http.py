"""The HTTP edge every function shares: JSON answers, the error shape
`{"error": {"code", "message", "field"}}`, request-body limits, and the mapping from
domain errors to status codes - registered once on each function's router (shared/router.py)."""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
import json
import traceback
from typing import Any

from shared.errors import (
    CensusError,
    MalformedRequest,
    PayloadTooLarge,
    RouteNotFound,
    UnsupportedMediaType,
)
from shared.observability import logger, metrics
from shared.router import NotFoundError, Resolver, Response
from shared.settings import settings

JSON = "application/json"
_NO_STORE = {"Cache-Control": "no-store"}


def common_headers() -> dict[str, str]:
    """On every answer: never cached, and CORS for the resident web page when configured."""
    origin = settings().cors_allow_origin
    if not origin:
        return dict(_NO_STORE)
    return {**_NO_STORE, "Access-Control-Allow-Origin": origin, "Access-Control-Expose-Headers": "ETag, Retry-After"}


def json_response(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(
        status_code=status,
        content_type=JSON,
        body=json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
        headers={**common_headers(), **(headers or {})},
    )


def error_response(error: CensusError) -> Response:
    return json_response(error.status, error.body(), error.headers)


def header(event: dict[str, Any], name: str) -> str | None:
    """A request header, case-insensitively (API Gateway keeps the client's casing)."""
    wanted = name.lower()
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == wanted:
            return str(value)
    return None


def client_address(event: dict[str, Any], edge_secret: str | None) -> str:
    """Who is calling, for a per-client limit. Through the site's CloudFront distribution
    (it adds x-census-edge: our secret) API Gateway's sourceIp is an edge server shared by
    thousands: the viewer is CloudFront-Viewer-Address ("ip:port"), else the entry
    CloudFront appended to X-Forwarded-For (the one before API Gateway's own; anything
    earlier is whatever the client sent). A direct caller is its sourceIp: its headers
    prove nothing."""
    identity = (event.get("requestContext") or {}).get("identity") or {}
    source = str(identity.get("sourceIp") or "unknown")
    edge = header(event, "x-census-edge")
    if not edge_secret or edge is None or not hmac.compare_digest(edge.encode(), edge_secret.encode()):
        return _per_client(source)
    viewer = (header(event, "CloudFront-Viewer-Address") or "").strip()
    if viewer:
        return _per_client(viewer.rsplit(":", 1)[0].strip("[]") if ":" in viewer else viewer)
    hops = [hop.strip() for hop in (header(event, "X-Forwarded-For") or "").split(",") if hop.strip()]
    return _per_client(hops[-2] if len(hops) >= 2 else source)


def _per_client(address: str) -> str:
    """An IPv6 subscriber is given a whole /64: counted per address, one client rotating
    through it would never reach a limit, so an IPv6 address counts as its /64."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is None:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else ip)


def claims(event: dict[str, Any]) -> dict[str, str] | None:
    """The authorizer's verified claims (Cognito in AWS, a local token locally)."""
    authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
    found = authorizer.get("claims")
    return found if isinstance(found, dict) else None


def query_parameter(event: dict[str, Any], name: str) -> str | None:
    return (event.get("queryStringParameters") or {}).get(name)


def json_body(event: dict[str, Any], max_bytes: int) -> bytes:
    """The raw JSON body after the checks that come before parsing: type and size."""
    content_type = (header(event, "content-type") or "").split(";")[0].strip().lower()
    if content_type != JSON and not (content_type.startswith("application/") and content_type.endswith("+json")):
        raise UnsupportedMediaType()
    raw = event.get("body")
    if raw is None:
        raise MalformedRequest("The request body is empty; send it as JSON.")
    if event.get("isBase64Encoded"):
        if len(raw) > max_bytes * 4 // 3 + 4:
            raise PayloadTooLarge()
        try:
            data = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise MalformedRequest() from None
    else:
        data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else bytes(raw)
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"The request body is over the limit of {max_bytes} bytes.")
    return data


def register_error_handlers(app: Resolver) -> None:
    """Every error a resolver can meet answers in the one JSON shape with a stable code."""

    @app.exception_handler(CensusError)
    def _census_error(error: CensusError) -> Response:
        metrics.add_metric(name=f"Error_{error.code}", unit="Count", value=1)
        logger.info("request refused", extra={"status": error.status, "error_code": error.code})
        return error_response(error)

    @app.not_found
    def _not_found(_: NotFoundError) -> Response:
        return error_response(RouteNotFound())

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response:
        # A DynamoDB fault on a path that did not map it itself (a lazy query's page, a
        # batch read): still the retryable 503, never a 500.
        from shared.store import store_busy

        busy = store_busy(error)
        if busy is not None:
            return _census_error(busy)
        # Type and location only: an exception's message may quote input (a NIK, a name).
        frames = traceback.extract_tb(error.__traceback__)
        where = [f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}:{f.name}" for f in frames[-5:]]
        logger.error("unhandled error", extra={"error_type": type(error).__name__, "where": where})
        return error_response(CensusError())
