"""A local stand-in for API Gateway (REST API, Lambda proxy integration): routes HTTP requests
by the template's Api events to the handlers in-process, with the event and response rules
API Gateway applies, so the handlers run unchanged and without Docker.

Authorizers: a route the template guards (ApiRoute.authorizer) takes its token from the
Authorization header and checks it with the caller's `authorize`, standing in for the Cognito
user pool authorizer; the claims it returns reach the handler as API Gateway puts them.

Not emulated: other authorizer types and settings (scopes, identity sources other than the
Authorization header, result caching), usage plans and throttling, binaryMediaTypes (a body
that is not UTF-8 is passed base64-encoded), the Lambda timeout, and per-function environment
variables (the caller sets the environment once, for every handler).

Static files: given `static`, a mapping of URL path -> folder or file (census_ops/site.py's
site_mounts: web/ at `/`, the API reference at `/api/`), GET/HEAD of a path no API route
matches (and not under /v1/) is answered from it, a path ending in `/` with that folder's
index.html - as CloudFront serves the site from S3 and sends /v1/* to the API, so the pages and
the API share one origin. A key ending in `/` mounts a folder, any other key one file; the
longest matching key is tried first and a file missing there falls through to shorter ones.
`site_files` adds generated files (the staff apps' config.json) to the mounts, and every file
goes gzip-compressed to a client that takes it, as CloudFront's `Compress: true` does.

Staff sign-in: given a `staff_auth` (LocalStaffAuth), /local-auth/ stands in for the Cognito
user pool's hosted sign-in with the same OAuth 2.0 protocol (authorization code + PKCE), so the
officers' app and the supervisors' console run the flow they run in AWS.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import gzip
import hashlib
import html
import json
import os
import secrets
import socket
import socketserver
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from census_ops.events import ACCOUNT_ID, LambdaContext, api_event
from census_ops.site import check_mounts
from census_ops.template import ApiRoute, Handler, load_handler

DEFAULT_REGION = "ap-southeast-3"
_DRAIN_LIMIT = 256 * 1024 * 1024  # past this, an oversized body is cut off rather than read
_RESPONSE_KEYS = {"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"}
_HOP_BY_HOP = {"content-length", "transfer-encoding", "connection", "keep-alive"}
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
# The site's files (see LocalApi's static); the headers match the CloudFront
# response headers policy in template.yaml (SiteSecurityHeaders).
_SITE_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
}
_COMPRESSIBLE = {".html", ".js", ".css", ".json", ".svg", ".txt"}
_SITE_HEADERS = (
    ("Cache-Control", "no-cache"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
    (
        "Content-Security-Policy",
        "default-src 'self'; connect-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'",
    ),
)

_stderr_lock = threading.Lock()


def _stderr(text: str) -> None:
    """One write per line under a lock, so lines from concurrent requests never interleave."""
    with _stderr_lock:
        sys.stderr.write(text if text.endswith("\n") else text + "\n")
        sys.stderr.flush()


class BadGateway(Exception):
    """The handler's answer is not a Lambda proxy response: API Gateway answers 502."""


@dataclass(frozen=True)
class _Resource:
    """One resource path of the API with its methods, as API Gateway groups them."""

    path: str
    segments: tuple[str, ...]
    methods: dict[str, ApiRoute]

    @property
    def specificity(self) -> tuple[int, ...]:
        """API Gateway prefers literal segments to {name} and {name} to {name+}."""
        return tuple(0 if s.endswith("+}") else 1 if s.startswith("{") else 2 for s in self.segments)

    def match(self, raw_segments: list[str]) -> dict[str, str] | None:
        """Match on the raw segments, so an encoded %2F stays inside one segment."""
        params: dict[str, str] = {}
        for i, segment in enumerate(self.segments):
            if segment.endswith("+}"):
                rest = raw_segments[i:]
                if not rest or not any(rest):
                    return None
                params[segment[1:-2]] = unquote("/".join(rest))
                return params
            if i >= len(raw_segments) or not raw_segments[i]:
                return None
            if segment.startswith("{"):
                params[segment[1:-1]] = unquote(raw_segments[i])
            elif unquote(raw_segments[i]) != segment:
                return None
        return params if len(raw_segments) == len(self.segments) else None

    def allowed(self) -> list[str]:
        methods = set(_METHODS) if "ANY" in self.methods else set(self.methods)
        methods.add("OPTIONS")
        if "GET" in methods:
            methods.add("HEAD")
        return sorted(methods)


def _segments(path: str) -> list[str]:
    """'/a/b/' -> ['a', 'b']: API Gateway treats a trailing slash as the same resource."""
    stripped = path[1:]
    if stripped.endswith("/"):
        stripped = stripped[:-1]
    return stripped.split("/") if stripped else []


def _build_resources(routes: list[ApiRoute]) -> list[_Resource]:
    """Group routes by path and refuse what API Gateway would refuse at deployment."""
    by_path: dict[str, dict[str, ApiRoute]] = {}
    shapes: dict[tuple[str, ...], str] = {}
    for route in routes:
        if not route.path.startswith("/"):
            raise ValueError(f"{route.function_id}: path {route.path!r} must start with /")
        segments = _segments(route.path)
        for i, segment in enumerate(segments):
            greedy = segment.endswith("+}")
            if segment.startswith("{") != segment.endswith("}") or (greedy and i != len(segments) - 1):
                raise ValueError(f"{route.function_id}: bad path template {route.path!r}")
        shape = tuple("{+}" if s.endswith("+}") else "{}" if s.startswith("{") else s for s in segments)
        normalized = "/" + "/".join(segments)
        if shapes.setdefault(shape, normalized) != normalized:
            raise ValueError(f"paths {shapes[shape]!r} and {route.path!r} differ only in their variable names")
        methods = by_path.setdefault(normalized, {})
        if route.method in methods:
            raise ValueError(f"{route.method} {route.path} is routed twice")
        methods[route.method] = route
    return [_Resource(path, tuple(_segments(path)), methods) for path, methods in by_path.items()]


def _error_body(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message, "field": None}}).encode()


def _proxy_response(result: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """Validate and unpack a proxy response as API Gateway does (anything else is a 502)."""
    if not isinstance(result, dict):
        raise BadGateway(f"the handler returned {type(result).__name__}, not a proxy response dict")
    unknown = set(result) - _RESPONSE_KEYS
    if unknown:
        raise BadGateway(f"the proxy response has unknown keys {sorted(unknown)}")
    status = result.get("statusCode")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise BadGateway(f"the proxy response's statusCode is {status!r}")
    single = result.get("headers") or {}
    multi = result.get("multiValueHeaders") or {}
    if not isinstance(single, dict) or not isinstance(multi, dict):
        raise BadGateway("the proxy response's headers must be objects")
    # Both: merged, a pair given in both appearing once (API Gateway's documented rule).
    merged: dict[str, list[str]] = {}
    for name, values in multi.items():
        if not isinstance(values, list):
            raise BadGateway(f"multiValueHeaders[{name!r}] must be a list")
        merged[str(name)] = [str(v) for v in values if v is not None]
    for name, value in single.items():
        if value is None:
            continue
        values = merged.setdefault(str(name), [])
        if str(value) not in values:
            values.append(str(value))
    body = result.get("body")
    if body is not None and not isinstance(body, str):
        raise BadGateway(f"the proxy response's body is {type(body).__name__}, not a string")
    if result.get("isBase64Encoded"):
        try:
            payload = base64.b64decode(body or "", validate=True)
        except (binascii.Error, ValueError) as error:
            raise BadGateway(f"isBase64Encoded but the body is not base64: {error}") from error
    else:
        payload = (body or "").encode("utf-8")
    return status, [(name, value) for name, values in merged.items() for value in values], payload


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # a load test opens many connections at once; 5 would reset them

    def __init__(self, address: tuple[str, int], api: LocalApi) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.api = api
        super().__init__(address, _RequestHandler)

    def server_bind(self) -> None:
        """HTTPServer's version resolves the host's FQDN, which can stall on some resolvers."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return  # the client went away: nothing to report
        super().handle_error(request, client_address)


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "LocalApiGateway"
    disable_nagle_algorithm = True
    timeout = 60  # an idle keep-alive connection holds a thread no longer than this

    _status = 0
    _route_label = "-"
    _started = 0.0
    _logged = False

    # -- plumbing -----------------------------------------------------------

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: our own access line never carries the concrete path (it holds KK numbers)."""

    def _send(self, status: int, headers: list[tuple[str, str]], body: bytes, request_id: str) -> None:
        self._status = status
        # Logged before the client can read the answer, so a client that saw it also sees its log line.
        self._access_log()
        self.send_response(status)
        names = set()
        for name, value in headers:
            if name.lower() in _HOP_BY_HOP:
                continue
            names.add(name.lower())
            self.send_header(name, value)
        if status == 204 or status == 304 or status < 200:
            body = b""  # no body, and no Content-Length either (RFC 9110)
        else:
            if body and "content-type" not in names:
                self.send_header("Content-Type", "application/json")  # API Gateway's default
            self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", request_id)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def _send_error_json(
        self, status: int, code: str, message: str, request_id: str, headers: tuple[tuple[str, str], ...] = ()
    ) -> None:
        headers = (("Content-Type", "application/json"), *headers)
        self._send(status, list(headers), _error_body(code, message), request_id)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The base class's HTML errors (bad request line, unknown method...) as our JSON shape."""
        self.close_connection = True
        self._route_label = "-"
        if code == 501:  # a method http.server has no handler for (TRACE, CONNECT...): a client's error
            code, message = 405, f"{self.command} is not allowed here"
        slug = {405: "method_not_allowed", 414: "uri_too_long", 431: "headers_too_large"}.get(code, "bad_request")
        self._started, self._logged = time.perf_counter(), False
        with contextlib.suppress(OSError):
            self._send_error_json(code, slug, message or self.responses.get(code, ("",))[0], str(uuid.uuid4()))
        self._access_log()

    def _access_log(self) -> None:
        """Once per request: method, route template (never the path), status, duration."""
        if self._logged or not self.server.api.access_log:
            return
        self._logged = True
        elapsed = (time.perf_counter() - self._started) * 1000
        _stderr(f"{self.command or '-'} {self._route_label} {self._status} {elapsed:.1f} ms")

    # -- bodies -------------------------------------------------------------

    def _read_chunked(self, limit: int) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            line = self.rfile.readline(65537)
            if not line:
                raise ValueError("the chunked body ended early")
            length = int(line.split(b";", 1)[0].strip() or b"0", 16)
            if length == 0:
                while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks) if size <= limit else None
            size += length
            if size > _DRAIN_LIMIT:
                self.close_connection = True
                return None
            if size <= limit:
                chunks.append(self._read_exactly(length))
            else:
                chunks.clear()
                self._discard(length)
            self.rfile.readline(65537)

    def _read_body(self, limit: int) -> bytes | None:
        """The body, or None when over the limit (read and dropped, so the client sees the 413)."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked(limit)
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise ValueError("negative Content-Length")
        if length <= limit:
            return self._read_exactly(length)
        if length > _DRAIN_LIMIT:
            self.close_connection = True
        else:
            self._discard(length)
        return None

    def _read_exactly(self, length: int) -> bytes:
        data = self.rfile.read(length) if length else b""
        if len(data) != length:
            raise ValueError("the body ended before its declared length")
        return data

    def _discard(self, length: int) -> None:
        while length > 0:
            data = self.rfile.read(min(length, 1 << 16))
            if not data:
                raise ValueError("the body ended before its declared length")
            length -= len(data)

    # -- requests -----------------------------------------------------------

    def _dispatch(self) -> None:
        self._started, self._logged = time.perf_counter(), False
        self._status, self._route_label = 0, "-"
        try:
            self._handle(str(uuid.uuid4()))
        finally:
            self._access_log()  # if nothing was sent (the connection failed)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch

    def _handle(self, request_id: str) -> None:
        api = self.server.api
        target = urlsplit(self.path)
        raw_path = target.path
        try:
            body = self._read_body(api.max_body_bytes)
        except ValueError:
            self.close_connection = True
            self._send_error_json(400, "bad_request", "unreadable request body", request_id)
            return
        if not raw_path.startswith("/"):
            self._send_error_json(400, "bad_request", "the request target must be a path", request_id)
            return
        auth = api.staff_auth
        needs_store = (
            raw_path == "/v1" or raw_path.startswith("/v1/") or bool(auth and raw_path.startswith(auth.PREFIX))
        )
        if needs_store and not api.wait_ready():
            self._send_error_json(
                503,
                "service_busy",
                "The service is still starting; retry after the delay in the Retry-After header.",
                request_id,
                (("Retry-After", "5"),),
            )
            return
        if (
            auth
            and raw_path.startswith(auth.PREFIX)
            and self._serve_staff_auth(auth, raw_path, target.query, body, request_id)
        ):
            return
        found = api.resolve(raw_path)
        if found is None:
            if self._serve_static(raw_path, request_id):
                return
            self._send_error_json(404, "route_not_found", "no route matches this path", request_id)
            return
        resource, params = found
        self._route_label = resource.path
        method = self.command
        route = resource.methods.get(method) or resource.methods.get("ANY")
        if route is None and method == "HEAD":
            # No HEAD route: answer as GET would, without the body.
            route, method = resource.methods.get("GET"), "GET"
        if route is None:
            allow = ", ".join(resource.allowed())
            if method == "OPTIONS":
                self._send(204, [("Allow", allow)], b"", request_id)
            else:
                self._send_error_json(
                    405,
                    "method_not_allowed",
                    f"{method} is not allowed here",
                    request_id,
                    (("Allow", allow),),
                )
            return
        if body is None:
            self._send_error_json(413, "payload_too_large", f"the body is over {api.max_body_bytes} bytes", request_id)
            return
        claims = self._authorize(route, request_id)
        if claims is None:
            return
        event = self._event(route, resource, method, raw_path, target.query, params, body, request_id)
        if route.authorizer is not None:
            event["requestContext"]["authorizer"] = {"claims": claims}  # where the Cognito authorizer puts them
        try:
            status, headers, payload = _proxy_response(api.invoke(route, event, request_id))
        except Exception as error:  # the handler failed, as Lambda would report to API Gateway
            _stderr(
                f"{route.function_id} ({method} {resource.path}) failed: {type(error).__name__}\n"
                + traceback.format_exc()
            )
            self._send_error_json(502, "bad_gateway", "the function failed or gave an invalid response", request_id)
            return
        if api.after_write is not None and method not in ("GET", "HEAD", "OPTIONS") and status < 300:
            try:
                api.after_write()
            except Exception as error:  # the answer stands; the poller retries the records
                _stderr(f"after {method} {resource.path}: {type(error).__name__}: {error}")
        self._send(status, headers, payload, request_id)

    def _serve_static(self, raw_path: str, request_id: str) -> bool:
        """A file of the site, or False (then the JSON 404). Never under /v1/, never a dotfile,
        never outside a mounted folder."""
        if self.command not in ("GET", "HEAD") or raw_path == "/v1" or raw_path.startswith("/v1/"):
            return False
        path = unquote(raw_path)
        generated = self.server.api.site_files.get(path)
        if generated is not None:
            self._send_site_file(Path(path).suffix, generated, request_id)
            return True
        if "\x00" in path or "\\" in path or any(part.startswith(".") for part in path.split("/")):
            return False
        file = self.server.api.static_file(path)
        if file is None:
            return False
        self._send_site_file(file.suffix, file.read_bytes(), request_id)
        return True

    def _send_site_file(self, suffix: str, content: bytes, request_id: str) -> None:
        """Compressed for a client that takes gzip, as CloudFront does (Compress: true)."""
        self._route_label = "(static)"
        content_type = _SITE_TYPES.get(suffix.lower(), "application/octet-stream")
        headers = [("Content-Type", content_type), *_SITE_HEADERS, ("Vary", "Accept-Encoding")]
        accepted = (self.headers.get("Accept-Encoding") or "").lower()
        if suffix.lower() in _COMPRESSIBLE and "gzip" in accepted and len(content) > 1024:
            content = gzip.compress(content, compresslevel=6, mtime=0)
            headers.append(("Content-Encoding", "gzip"))
        self._send(200, headers, content, request_id)

    def _serve_staff_auth(
        self, auth: LocalStaffAuth, raw_path: str, query: str, body: bytes | None, request_id: str
    ) -> bool:
        """The sign-in stand-in's answer, or False (then the JSON 404). Its roster look-up runs
        under the invocation lock, like a handler (moto is not thread-safe)."""
        if body is None:
            self._send_error_json(413, "payload_too_large", "the body is too large", request_id)
            return True
        host = self.headers.get("Host") or ""
        with self.server.api.invoke_lock:
            answer = auth.handle(self.command, raw_path, query, body, host)
        if answer is None:
            return False
        self._route_label = "(staff sign-in)"
        status, headers, payload = answer
        self._send(status, headers, payload, request_id)
        return True

    def _authorize(self, route: ApiRoute, request_id: str) -> dict[str, str] | None:
        """As API Gateway: a guarded route without a valid token never reaches its handler.

        The claims ({} for a public route), or None once the refusal has been sent. Neither the
        token nor the claims are logged.
        """
        if route.authorizer is None:
            return {}
        authorize = self.server.api.authorize
        if authorize is None:
            # Fail closed: a local API started without a token check must not serve guarded routes openly.
            self._send_error_json(
                500,
                "authorizer_not_configured",
                f"this route needs the {route.authorizer} authorizer, which this local API was not given",
                request_id,
            )
            return None
        header = (self.headers.get("Authorization") or "").strip()
        scheme, _, rest = header.partition(" ")
        token = rest.strip() if scheme.lower() == "bearer" else header
        if not token:
            self._send_error_json(401, "unauthorized", "send a token in the Authorization header", request_id)
            return None
        try:
            claims = authorize(token)
            if not isinstance(claims, dict):
                raise TypeError(f"the authorizer returned {type(claims).__name__}, not claims")
        except Exception as error:  # any failure refuses the request, as API Gateway's authorizer would
            reason = str(error)[:200] or type(error).__name__
            self._send_error_json(401, "unauthorized", f"the token was refused: {reason}", request_id)
            return None
        return claims

    def _event(
        self,
        route: ApiRoute,
        resource: _Resource,
        method: str,
        raw_path: str,
        query: str,
        params: dict[str, str],
        body: bytes,
        request_id: str,
    ) -> dict[str, Any]:
        """The REST API (v1) proxy event: path stays encoded; path and query values are decoded."""
        api = self.server.api
        client_ip = str(self.client_address[0])
        multi_headers: dict[str, list[str]] = {}
        for name, value in self.headers.items():
            multi_headers.setdefault(name, []).append(value)
        forwarded = self.headers.get("X-Forwarded-For")
        for name, value in (
            ("X-Forwarded-For", f"{forwarded}, {client_ip}" if forwarded else client_ip),
            ("X-Forwarded-Port", str(api.port)),
            ("X-Forwarded-Proto", "http"),
        ):
            existing = next((n for n in multi_headers if n.lower() == name.lower()), name)
            multi_headers[existing] = [value]
        multi_query: dict[str, list[str]] = {}
        for name, value in parse_qsl(query, keep_blank_values=True):
            multi_query.setdefault(name, []).append(value)
        return api_event(
            method,
            raw_path,
            resource=route.path,
            path_parameters=params,
            raw_body=body,
            headers=multi_headers,
            query=multi_query,
            request_id=request_id,
            source_ip=client_ip,
            stage=api.stage,
            host=api.host,
            user_agent=self.headers.get("User-Agent"),
            protocol=self.request_version,
        )


@dataclass(frozen=True)
class _Grant:
    officer_id: str
    client_id: str
    redirect_uri: str
    challenge: str
    expires: float


class LocalStaffAuth:
    """A stand-in for the staff user pool's hosted sign-in and token endpoint (OAuth 2.0
    authorization code with PKCE, RFC 6749 and RFC 7636, as Cognito speaks it), for local use only.

    GET  /local-auth/oauth2/authorize   the sign-in page: an officer id from the roster, no password
    POST /local-auth/oauth2/authorize   issues a one-time code (5 minutes) and redirects to the app
    POST /local-auth/oauth2/token       code + code_verifier -> {"id_token", ...}, the locally signed ID token
    GET  /local-auth/logout             back to the app's logout_uri

    `mint(officer_id)` returns the ID token for a rostered officer, None for anyone else. Codes
    live in memory: a restart forgets the sign-ins under way, as it should.
    """

    PREFIX = "/local-auth/"

    def __init__(
        self,
        mint: Callable[[str], str | None],
        *,
        client_id: str,
        callback_paths: tuple[str, ...] = ("/field/", "/console/"),
        code_ttl_seconds: float = 300,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._mint = mint
        self.client_id = client_id
        self.callback_paths = callback_paths
        self._ttl = code_ttl_seconds
        self._clock = clock
        self._codes: dict[str, _Grant] = {}
        self._lock = threading.Lock()

    def config(self, field_phase_end: str | None) -> dict[str, Any]:
        """What the staff apps' config.json says locally (in AWS the deploy step writes the user pool's)."""
        return {
            "auth": {
                "authorize_url": "/local-auth/oauth2/authorize",
                "token_url": "/local-auth/oauth2/token",
                "logout_url": "/local-auth/logout",
                "client_id": self.client_id,
                "scope": "openid",
            },
            "field_phase_end": field_phase_end,
        }

    def handle(
        self, method: str, path: str, query: str, body: bytes, host: str
    ) -> tuple[int, list[tuple[str, str]], bytes] | None:
        """The answer to a /local-auth/ request, or None for a path it does not serve."""
        if path == "/local-auth/oauth2/authorize" and method in ("GET", "HEAD"):
            params = dict(parse_qsl(query, keep_blank_values=True))
            problem = self._check_request(params, host)
            return self._page(params, problem, 400 if problem else 200)
        if path == "/local-auth/oauth2/authorize" and method == "POST":
            params = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
            problem = self._check_request(params, host)
            if problem:
                return self._page(params, problem, 400)
            officer_id = params.get("officer_id", "").strip()
            if not officer_id or self._mint(officer_id) is None:
                return self._page(params, "Tidak ada di daftar petugas (not on the roster).", 200)
            code = secrets.token_urlsafe(24)
            with self._lock:
                self._forget_expired()
                self._codes[code] = _Grant(
                    officer_id,
                    params["client_id"],
                    params["redirect_uri"],
                    params["code_challenge"],
                    self._clock() + self._ttl,
                )
            target = params["redirect_uri"] + "?" + urlencode({"code": code, "state": params.get("state", "")})
            return 302, [("Location", target), ("Cache-Control", "no-store")], b""
        if path == "/local-auth/oauth2/token" and method == "POST":
            return self._token(dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)))
        if path == "/local-auth/logout" and method in ("GET", "HEAD"):
            params = dict(parse_qsl(query, keep_blank_values=True))
            target = params.get("logout_uri", "")
            if params.get("client_id") != self.client_id or not self._callback(target, host):
                return self._page(params, "logout_uri is not a registered sign-out URL.", 400)
            return 302, [("Location", target), ("Cache-Control", "no-store")], b""
        return None

    def _callback(self, uri: str, host: str) -> bool:
        parts = urlsplit(uri)
        return parts.scheme in ("http", "https") and parts.netloc == host and parts.path in self.callback_paths

    def _check_request(self, params: dict[str, str], host: str) -> str | None:
        if params.get("response_type") != "code":
            return "response_type must be code."
        if params.get("client_id") != self.client_id:
            return "Unknown client_id."
        if not self._callback(params.get("redirect_uri", ""), host):
            return "redirect_uri is not a registered callback URL."
        if params.get("code_challenge_method") != "S256" or not 43 <= len(params.get("code_challenge", "")) <= 128:
            return "PKCE is required: code_challenge with code_challenge_method S256."
        return None

    def _forget_expired(self) -> None:
        now = self._clock()
        for code in [c for c, grant in self._codes.items() if grant.expires <= now]:
            del self._codes[code]

    def _token(self, form: dict[str, str]) -> tuple[int, list[tuple[str, str]], bytes]:
        def refuse(error: str) -> tuple[int, list[tuple[str, str]], bytes]:  # RFC 6749 5.2, as Cognito answers
            return (
                400,
                [("Content-Type", "application/json"), ("Cache-Control", "no-store")],
                json.dumps({"error": error}).encode(),
            )

        if form.get("grant_type") != "authorization_code":
            return refuse("unsupported_grant_type")
        with self._lock:
            self._forget_expired()
            grant = self._codes.pop(form.get("code", ""), None)  # single use, even when refused below
        if grant is None or form.get("client_id") != grant.client_id or form.get("redirect_uri") != grant.redirect_uri:
            return refuse("invalid_grant")
        verifier = form.get("code_verifier", "")
        computed = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
        if not 43 <= len(verifier) <= 128 or not secrets.compare_digest(computed, grant.challenge):
            return refuse("invalid_grant")
        token = self._mint(grant.officer_id)
        if token is None:  # removed from the roster meanwhile
            return refuse("invalid_grant")
        answer = {"id_token": token, "token_type": "Bearer", "expires_in": 3600}
        return 200, [("Content-Type", "application/json"), ("Cache-Control", "no-store")], json.dumps(answer).encode()

    def _page(
        self, params: dict[str, str], problem: str | None, status: int
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """The sign-in page: plain HTML under the site's CSP (no script, the site's stylesheet)."""
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(params.get(name, ""))}">'
            for name in (
                "response_type",
                "client_id",
                "redirect_uri",
                "state",
                "code_challenge",
                "code_challenge_method",
                "scope",
            )
        )
        error = f'<p class="error" id="officer_id-err" role="alert">{html.escape(problem)}</p>' if problem else ""
        described = (
            ' aria-describedby="officer_id-hint officer_id-err" aria-invalid="true"'
            if problem
            else ' aria-describedby="officer_id-hint"'
        )
        invalid = " invalid" if problem else ""
        value = html.escape(params.get("officer_id", ""))
        page = "\n".join(
            [
                '<!doctype html><html lang="id"><head><meta charset="utf-8">',
                '<meta name="viewport" content="width=device-width, initial-scale=1">',
                "<title>Masuk petugas (lokal)</title>",
                '<link rel="stylesheet" href="/css/app.css"></head>',
                '<body><header class="top"><p class="brand">Sensus Penduduk - Petugas</p></header>',
                '<main id="main"><h1>Masuk sebagai petugas</h1>',
                '<p class="notice warning">Halaman lokal pengganti Cognito: tanpa kata sandi.',
                '<span lang="en">A local stand-in for the Cognito sign-in: no password.</span></p>',
                f'<form method="post" action="/local-auth/oauth2/authorize">{hidden}',
                f'<div class="field{invalid}">',
                '<label for="officer_id">ID petugas <span lang="en">(officer id)</span></label>',
                '<p class="hint" id="officer_id-hint">Dari daftar petugas, misalnya OFC-0001 atau SPV-1671.</p>',
                '<input id="officer_id" name="officer_id" autocomplete="username" autocapitalize="characters"',
                f'autofocus required value="{value}"{described}>',
                f"{error}</div>",
                '<button type="submit" class="primary" id="local-signin">',
                'Masuk <span lang="en">(sign in)</span></button>',
                "</form></main></body></html>",
            ]
        )
        headers = [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store"), *_SITE_HEADERS[1:]]
        return status, headers, page.encode("utf-8")


class LocalApi:
    """The API on one port; one thread per connection, handlers called in-process."""

    def __init__(
        self,
        routes: list[ApiRoute],
        *,
        host: str = "127.0.0.1",
        port: int = 3000,
        serialize: bool = False,
        handler_loader: Callable[[ApiRoute], Handler] = load_handler,
        stage: str = "local",
        max_body_bytes: int = 10 * 1024 * 1024,
        authorize: Callable[[str], dict[str, str]] | None = None,
        static: Mapping[str, Path] | None = None,
        site_dir: Path | None = None,
        site_files: dict[str, bytes] | None = None,
        staff_auth: LocalStaffAuth | None = None,
        access_log: bool = True,
        ready: threading.Event | None = None,
        ready_wait_seconds: float = 90.0,
    ) -> None:
        self.routes = list(routes)
        # Set once the store behind the handlers answers (`census serve` listens before
        # DynamoDB Local has started, so the site is there at once): until then API and
        # sign-in requests wait for it, up to ready_wait_seconds, then get a 503 to retry.
        self.ready = ready
        self.ready_wait_seconds = ready_wait_seconds
        self.access_log = access_log  # one stderr line per request (`census soak` turns it off)
        # Generated files served as if mounted ("/field/config.json" -> bytes).
        self.site_files = dict(site_files or {})
        self.staff_auth = staff_auth
        # Called after a write route answered 2xx, before the answer is sent (`census serve`:
        # the table's stream handed to its consumer, so a read that follows sees the counters).
        self.after_write: Callable[[], None] | None = None
        # URL path -> folder ("/" at the end) or file, served where no API route matches (none:
        # API only); `site_dir` is short for {"/": site_dir}. Longest key first.
        mounts = dict(static or {})
        if site_dir is not None:
            mounts.setdefault("/", site_dir)
        self.static = dict(sorted(check_mounts(mounts).items(), key=lambda item: -len(item[0])))
        # Token -> claims for guarded routes (raises to refuse); None refuses them all with a 500.
        self.authorize = authorize
        self._resources = _build_resources(self.routes)
        self.stage = stage
        self.max_body_bytes = max_body_bytes
        self._handler_loader = handler_loader
        # moto is not thread-safe: with it behind the handlers, one invocation at a time.
        self._invoke_lock: contextlib.AbstractContextManager[Any] = (
            threading.Lock() if serialize else contextlib.nullcontext()
        )
        self._region = os.environ.get("AWS_REGION") or DEFAULT_REGION
        self._state = threading.Lock()
        self._serving = False
        self._closed = False
        self._loop_done = threading.Event()
        self._server = _Server((host, port), self)  # bound now, so url is known before serving

    @property
    def host(self) -> str:
        host = str(self._server.server_address[0])
        return {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)  # noqa: S104

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def wait_ready(self) -> bool:
        """Whether the store behind the handlers answers, waiting for it if it is starting."""
        return self.ready is None or self.ready.wait(self.ready_wait_seconds)

    def static_file(self, path: str) -> Path | None:
        """The file a decoded URL path names in the static mounts, or None."""
        for key, source in self.static.items():
            if not key.endswith("/"):
                if path == key:
                    return source
                continue
            if not path.startswith(key):
                continue
            relative = path[len(key) :]
            if not relative or relative.endswith("/"):
                relative += "index.html"
            file = (source / relative).resolve()
            if file.is_relative_to(source) and file.is_file():
                return file
        return None

    def resolve(self, raw_path: str) -> tuple[_Resource, dict[str, str]] | None:
        """The most specific resource matching the path, with its decoded path parameters."""
        segments = _segments(raw_path)
        matches = [(r, params) for r in self._resources if (params := r.match(segments)) is not None]
        if not matches:
            return None
        return max(matches, key=lambda found: found[0].specificity)

    def _context(self, route: ApiRoute, request_id: str) -> LambdaContext:
        name = route.function_id
        return LambdaContext(
            function_name=name,
            aws_request_id=request_id,
            invoked_function_arn=f"arn:aws:lambda:{self._region}:{ACCOUNT_ID}:function:{name}",
            log_group_name=f"/aws/lambda/{name}",
            log_stream_name=f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}",
        )

    @property
    def invoke_lock(self) -> contextlib.AbstractContextManager[Any]:
        return self._invoke_lock

    def invoke(self, route: ApiRoute, event: dict[str, Any], request_id: str) -> Any:
        """Load (once) and call the route's handler; exceptions propagate to the 502 path."""
        with self._invoke_lock:
            handler = self._handler_loader(route)
            try:
                return handler(event, self._context(route, request_id))
            except SystemExit as error:  # a handler exiting is a failed invocation, not our exit
                raise RuntimeError(f"the handler called exit({error.code})") from error

    def _claim(self) -> None:
        with self._state:
            if self._closed or self._serving:
                raise RuntimeError("this LocalApi is already serving or has been shut down")
            self._serving = True

    def _loop(self) -> None:
        try:
            self._server.serve_forever(poll_interval=0.05)
        finally:
            with self._state:
                self._serving = False
            self._server.server_close()
            self._loop_done.set()

    def serve_forever(self) -> None:
        """Serve until shutdown() or KeyboardInterrupt; the socket is closed on return."""
        self._claim()
        self._loop()

    def start_in_thread(self) -> None:
        """Serve from a daemon thread; marked serving first, so an immediate shutdown() still waits."""
        self._claim()
        threading.Thread(target=self._loop, name=f"local-api-{self.port}", daemon=True).start()

    def shutdown(self) -> None:
        """Stop serving and close the socket; idempotent. Returns once the port refuses connections."""
        with self._state:
            serving, self._serving, self._closed = self._serving, False, True
        if serving:
            self._server.shutdown()
            # The loop closes the socket on its way out: wait for that, or a connect made right
            # after we return could still land in the closing socket's queue and be reset.
            self._loop_done.wait(10)
        self._server.server_close()

    def __enter__(self) -> LocalApi:
        self.start_in_thread()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback_: TracebackType | None,
    ) -> None:
        self.shutdown()
