"""Routing an API Gateway REST (payload format 1.0) proxy event to a function's handler, and
its answer back into the proxy's response shape.

The functions used Powertools' APIGatewayRestResolver for exactly this; importing it cost
~25 ms of every cold start (its event_handler package imports every resolver, the AppSync
one pulls in asyncio, and the REST resolver every event class) for a few routes per function
that need a method, a path template, error handlers and the response shape
(docs/decisions/0017). The answers are the ones the resolver gave: `multiValueHeaders`
(Content-Type last), a bytes body sent base64-encoded, trailing slashes ignored, the same
characters allowed in a path parameter, routes without parameters tried first.

A route is declared with API Gateway's own template, `@app.post("/v1/households/{kk}/responses")`,
the string template.yaml's events use; `app.routes()` lists them (tests compare every
function's table with the template's events)."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import Any, TypeVar

# Powertools' characters of a path parameter (RFC 3986's unreserved and sub-delims, and the
# unsafe ones API Gateway passes through), so the same paths reach the same handlers.
_SEGMENT = r"[-._~()'!*:@,;=+&$%<> \[\]{}|^\w]+"
_PARAMETER = re.compile(r"\\\{(\w+)\\\}")

Handler = TypeVar("Handler", bound=Callable[..., Any])


class Response:
    """What a route answers. (Plain classes here, not dataclasses: creating a dataclass costs
    ~1 ms of every cold start.)"""

    __slots__ = ("body", "content_type", "headers", "status_code")

    def __init__(
        self,
        status_code: int,
        content_type: str | None = None,
        body: str | bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status_code, self.content_type, self.body = status_code, content_type, body
        self.headers = headers if headers is not None else {}


class NotFoundError(Exception):
    """No route matches the request's method and path (passed to the not_found handler)."""


class ProxyEvent:
    __slots__ = ("raw_event",)

    def __init__(self, raw_event: dict[str, Any]) -> None:
        self.raw_event = raw_event


class Route:
    __slots__ = ("handler", "method", "path", "pattern")

    def __init__(self, method: str, path: str, pattern: re.Pattern[str], handler: Callable[..., Response]) -> None:
        self.method, self.path, self.pattern, self.handler = method, path, pattern, handler  # path: /v1/x/{kk}


class Resolver:
    """A function's route table; `resolve(event, context)` answers one proxy event."""

    def __init__(self) -> None:
        self._routes: list[Route] = []
        self._exception_handlers: dict[type[BaseException], Callable[[Any], Response]] = {}
        self._not_found: Callable[[NotFoundError], Response] | None = None
        self.current_event = ProxyEvent({})
        self.lambda_context: Any = None

    def route(self, path: str, method: str) -> Callable[[Handler], Handler]:
        regex = _PARAMETER.sub(lambda m: f"(?P<{m[1]}>{_SEGMENT})", re.escape(path))
        pattern = re.compile(f"^{regex}/*$")

        def add(handler: Handler) -> Handler:
            route = Route(method.upper(), path, pattern, handler)
            if pattern.groupindex:
                self._routes.append(route)
            else:  # as Powertools: routes without parameters are tried first
                self._routes.insert(sum(1 for r in self._routes if not r.pattern.groupindex), route)
            return handler

        return add

    def get(self, path: str) -> Callable[[Handler], Handler]:
        return self.route(path, "GET")

    def post(self, path: str) -> Callable[[Handler], Handler]:
        return self.route(path, "POST")

    def put(self, path: str) -> Callable[[Handler], Handler]:
        return self.route(path, "PUT")

    def delete(self, path: str) -> Callable[[Handler], Handler]:
        return self.route(path, "DELETE")

    def routes(self) -> list[tuple[str, str]]:
        """(METHOD, path template) of every route, in declaration-independent order."""
        return sorted((r.method, r.path) for r in self._routes)

    def exception_handler(self, kind: type[BaseException]) -> Callable[[Handler], Handler]:
        def add(handler: Handler) -> Handler:
            self._exception_handlers[kind] = handler
            return handler

        return add

    def not_found(self, handler: Handler) -> Handler:
        self._not_found = handler
        return handler

    def resolve(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.current_event, self.lambda_context = ProxyEvent(event), context
        try:
            response = self._dispatch(str(event.get("httpMethod", "")).upper(), str(event.get("path") or "/"))
        except Exception as error:
            response = self._handled(error)
        return _proxy_answer(response)

    def _dispatch(self, method: str, path: str) -> Response:
        for route in self._routes:
            if route.method == method and (found := route.pattern.match(path)):
                return route.handler(**found.groupdict())
        if self._not_found is None:
            return Response(404, "application/json", '{"statusCode":404,"message":"Not found"}')
        return self._not_found(NotFoundError(f"{method} {path}"))

    def _handled(self, error: Exception) -> Response:
        for kind in type(error).__mro__:
            handler = self._exception_handlers.get(kind)
            if handler is not None:
                return handler(error)
        raise error


def _proxy_answer(response: Response) -> dict[str, Any]:
    headers: dict[str, list[str]] = {name: [value] for name, value in response.headers.items()}
    if response.content_type:
        headers["Content-Type"] = [response.content_type]
    body, encoded = response.body, False
    if isinstance(body, bytes):
        body, encoded = base64.b64encode(body).decode("ascii"), True
    return {"statusCode": response.status_code, "body": body, "isBase64Encoded": encoded, "multiValueHeaders": headers}
