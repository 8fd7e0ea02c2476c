"""The local API Gateway over real HTTP. The Lambda is a test double that echoes the event and
context it received, so each assertion is about what API Gateway would have sent."""

from __future__ import annotations

import base64
import http.client
import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

from census_ops.local_api import LocalApi
from census_ops.template import ApiRoute
from census_ops.tokens import mint_token, verify_token

Handler = Callable[[dict[str, Any], Any], Any]

INTAKE = ApiRoute("IntakeFunction", "POST", "/v1/households/{kk}/responses", "functions/intake/", "app.h")
FILES = ApiRoute("FilesFunction", "ANY", "/files/{path+}", "functions/files/", "app.h")
THING = ApiRoute("ThingFunction", "GET", "/v1/things/{id}", "functions/things/", "app.h")
SPECIAL = ApiRoute("SpecialFunction", "GET", "/v1/things/special", "functions/things/", "app.h")
ROOT = ApiRoute("RootFunction", "GET", "/", "functions/root/", "app.h")
WORKLIST = ApiRoute("WorklistFunction", "GET", "/v1/worklist", "functions/worklist/", "app.h", "CognitoAuthorizer")
SECRET = b"k" * 32


def echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
    seen = {
        "function_name": context.function_name,
        "function_version": context.function_version,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "invoked_function_arn": context.invoked_function_arn,
        "aws_request_id": context.aws_request_id,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining_ms": context.get_remaining_time_in_millis(),
    }
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"event": event, "context": seen}),
    }


def loader_for(handlers: dict[str, Handler]) -> Callable[[ApiRoute], Handler]:
    return lambda route: handlers.get(route.function_id, echo)


@pytest.fixture
def serve() -> Iterator[Callable[..., LocalApi]]:
    started: list[LocalApi] = []

    def start(routes: list[ApiRoute], handlers: dict[str, Handler] | None = None, **options: Any) -> LocalApi:
        api = LocalApi(routes, port=0, handler_loader=loader_for(handlers or {}), **options)
        api.start_in_thread()
        started.append(api)
        return api

    yield start
    for api in started:
        api.shutdown()


@pytest.fixture
def api(serve: Callable[..., LocalApi]) -> LocalApi:
    return serve([INTAKE, FILES, THING, SPECIAL, ROOT])


def call(
    api: LocalApi, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, Message, bytes]:
    request = urllib.request.Request(api.url + path, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers, error.read()


def echoed(api: LocalApi, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    status, _, body = call(api, method, path, **kwargs)
    assert status == 200, body
    answer: dict[str, Any] = json.loads(body)
    return answer


def error_of(status: int, headers: Message, body: bytes) -> tuple[int, str]:
    assert headers["Content-Type"] == "application/json"
    error = json.loads(body)["error"]
    assert set(error) == {"code", "message", "field"} and error["field"] is None and error["message"]
    return status, error["code"]


def test_the_event_is_api_gateways(api: LocalApi) -> None:
    before = time.time()
    status, headers, raw = call(
        api,
        "POST",
        "/v1/households/1671%20010101/responses?page=1&tag=a&tag=b+c&empty=",
        body=b'{"members": []}',
        headers={
            "Content-Type": "application/json",
            "X-Custom-Header": "Kept-Casing",
            "Idempotency-Key": "k-1",
        },
    )
    assert status == 200
    answer = json.loads(raw)
    event, context = answer["event"], answer["context"]

    assert event["resource"] == "/v1/households/{kk}/responses"
    assert event["path"] == "/v1/households/1671%20010101/responses"
    assert event["httpMethod"] == "POST"
    assert event["pathParameters"] == {"kk": "1671 010101"}
    assert event["headers"]["X-Custom-Header"] == "Kept-Casing"
    assert event["headers"]["Idempotency-Key"] == "k-1"
    assert event["multiValueHeaders"]["X-Custom-Header"] == ["Kept-Casing"]
    assert event["headers"]["X-Forwarded-For"] == "127.0.0.1"
    assert event["queryStringParameters"] == {"page": "1", "tag": "b c", "empty": ""}
    assert event["multiValueQueryStringParameters"] == {"page": ["1"], "tag": ["a", "b c"], "empty": [""]}
    assert event["stageVariables"] is None
    assert event["body"] == '{"members": []}'
    assert event["isBase64Encoded"] is False

    ctx = event["requestContext"]
    assert ctx["resourcePath"] == "/v1/households/{kk}/responses"
    assert ctx["httpMethod"] == "POST"
    assert ctx["path"] == "/local/v1/households/1671%20010101/responses"
    assert ctx["stage"] == "local"
    assert ctx["accountId"] == "123456789012" and ctx["apiId"] == "local"
    assert ctx["protocol"] == "HTTP/1.1" and ctx["domainName"] == "127.0.0.1"
    assert ctx["identity"]["sourceIp"] == "127.0.0.1"
    assert ctx["identity"]["userAgent"].startswith("Python-urllib")
    assert before * 1000 - 1000 <= ctx["requestTimeEpoch"] <= time.time() * 1000 + 1000
    assert str(uuid.UUID(ctx["requestId"])) == ctx["requestId"]
    assert headers["x-amzn-RequestId"] == ctx["requestId"]

    assert context["function_name"] == "IntakeFunction"
    assert context["function_version"] == "$LATEST"
    assert context["memory_limit_in_mb"] == 512
    assert context["invoked_function_arn"].endswith(":123456789012:function:IntakeFunction")
    assert context["aws_request_id"] == ctx["requestId"]
    assert context["log_group_name"] == "/aws/lambda/IntakeFunction"
    assert context["log_stream_name"]
    assert 0 < context["remaining_ms"] <= 29_000


def test_absent_parts_are_null(api: LocalApi) -> None:
    event = echoed(api, "GET", "/")["event"]
    assert event["resource"] == "/"
    assert event["pathParameters"] is None
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["body"] is None
    assert event["isBase64Encoded"] is False


def test_a_body_that_is_not_utf8_is_base64(api: LocalApi) -> None:
    raw = b"\xff\xfe\x00binary\x80"
    event = echoed(api, "POST", "/v1/households/1/responses", body=raw)["event"]
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == raw


def test_greedy_path_any_method_and_encoded_slashes(api: LocalApi) -> None:
    event = echoed(api, "DELETE", "/files/a/b%2Fc/d%C3%A9")["event"]
    assert event["resource"] == "/files/{path+}"
    assert event["httpMethod"] == "DELETE"
    assert event["pathParameters"] == {"path": "a/b/c/dé"}
    assert call(api, "GET", "/files")[0] == 404  # {path+} needs at least one segment


def test_the_most_specific_resource_wins(api: LocalApi) -> None:
    special = echoed(api, "GET", "/v1/things/special")
    other = echoed(api, "GET", "/v1/things/thing%2F7/")  # trailing slash: the same resource
    assert special["context"]["function_name"] == "SpecialFunction"
    assert special["event"]["pathParameters"] is None
    assert other["context"]["function_name"] == "ThingFunction"
    assert other["event"]["pathParameters"] == {"id": "thing/7"}


def test_unknown_path_is_404_and_other_method_is_405(api: LocalApi) -> None:
    assert error_of(*call(api, "GET", "/v1/nowhere")) == (404, "route_not_found")
    assert error_of(*call(api, "POST", "/v1/households/1/responses/extra")) == (404, "route_not_found")
    status, headers, body = call(api, "GET", "/v1/households/1/responses")
    assert error_of(status, headers, body) == (405, "method_not_allowed")
    assert headers["Allow"] == "OPTIONS, POST"
    assert error_of(*call(api, "PUT", "/v1/things/1")) == (405, "method_not_allowed")


def test_options_and_head(api: LocalApi) -> None:
    status, headers, body = call(api, "OPTIONS", "/v1/households/1/responses")
    assert (status, headers["Allow"], body) == (204, "OPTIONS, POST", b"")
    status, headers, body = call(api, "HEAD", "/v1/things/1")
    assert (status, body) == (200, b"")
    assert int(headers["Content-Length"]) > 0  # what GET would have sent
    status, _, body = call(api, "HEAD", "/v1/nowhere")
    assert (status, body) == (404, b"")


def test_an_unknown_http_method_gets_a_json_4xx(api: LocalApi) -> None:
    for method in ("BREW", "TRACE"):
        status, headers, body = call(api, method, "/v1/things/1")
        assert error_of(status, headers, body) == (405, "method_not_allowed")


def test_a_body_over_the_limit_is_413_without_calling_the_handler(serve: Callable[..., LocalApi]) -> None:
    calls: list[dict[str, Any]] = []

    def record(event: dict[str, Any], context: Any) -> dict[str, Any]:
        calls.append(event)
        return {"statusCode": 201, "body": str(len(event["body"] or ""))}

    api = serve([INTAKE], {"IntakeFunction": record}, max_body_bytes=1024)
    status, _, body = call(api, "POST", "/v1/households/1/responses", body=b"x" * 1024)
    assert (status, body) == (201, b"1024")
    assert error_of(*call(api, "POST", "/v1/households/1/responses", body=b"x" * 1025)) == (
        413,
        "payload_too_large",
    )
    assert len(calls) == 1

    # Chunked, on one kept-alive connection: the oversized body is read and dropped, so the next one works.
    connection = http.client.HTTPConnection("127.0.0.1", api.port, timeout=30)
    try:
        connection.request("POST", "/v1/households/1/responses", body=iter([b"y" * 600, b"y" * 600]))
        answer = connection.getresponse()
        assert answer.status == 413 and json.loads(answer.read())["error"]["code"] == "payload_too_large"
        connection.request("POST", "/v1/households/1/responses", body=iter([b"z" * 300, b"z" * 300]))
        answer = connection.getresponse()
        assert (answer.status, answer.read()) == (201, b"600")
    finally:
        connection.close()
    assert len(calls) == 2 and calls[1]["body"] == "z" * 600


def test_the_proxy_response_is_returned_as_api_gateway_would(serve: Callable[..., LocalApi]) -> None:
    def answer(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {
            "statusCode": 201,
            "headers": {"X-One": "1", "X-Both": "b"},
            "multiValueHeaders": {"X-Both": ["a", "b"], "Set-Cookie": ["a=1", "b=2"]},
            "body": base64.b64encode(b"\x00\x01binary").decode(),
            "isBase64Encoded": True,
        }

    api = serve([INTAKE], {"IntakeFunction": answer})
    status, headers, body = call(api, "POST", "/v1/households/1/responses", body=b"{}")
    assert (status, body) == (201, b"\x00\x01binary")
    assert headers["X-One"] == "1"
    assert headers.get_all("X-Both") == ["a", "b"]
    assert headers.get_all("Set-Cookie") == ["a=1", "b=2"]
    assert headers["Content-Type"] == "application/json"  # API Gateway's default


@pytest.mark.parametrize(
    "handler",
    [
        pytest.param(lambda e, c: 1 / 0, id="raises"),
        pytest.param(lambda e, c: "not a proxy response", id="not-a-dict"),
        pytest.param(lambda e, c: {"statusCode": "teapot", "body": ""}, id="bad-status"),
        pytest.param(lambda e, c: {"statusCode": 200, "body": {"json": "object"}}, id="body-not-a-string"),
        pytest.param(lambda e, c: {"statusCode": 200, "unexpected": True}, id="unknown-key"),
    ],
)
def test_a_failing_handler_is_502(
    serve: Callable[..., LocalApi], handler: Handler, capfd: pytest.CaptureFixture[str]
) -> None:
    api = serve([INTAKE], {"IntakeFunction": handler})
    assert error_of(*call(api, "POST", "/v1/households/1/responses", body=b"{}")) == (502, "bad_gateway")
    assert "Traceback" in capfd.readouterr().err


def test_access_log_names_the_route_never_the_path(api: LocalApi, capfd: pytest.CaptureFixture[str]) -> None:
    kk = "1671010101990001"
    assert call(api, "POST", f"/v1/households/{kk}/responses", body=b"{}")[0] == 200
    assert call(api, "GET", f"/v1/households/{kk}/responses")[0] == 405
    assert call(api, "GET", f"/nowhere/{kk}")[0] == 404
    err = capfd.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert kk not in err
    assert lines[0].startswith("POST /v1/households/{kk}/responses 200 ") and lines[0].endswith(" ms")
    assert lines[1].startswith("GET /v1/households/{kk}/responses 405 ")
    assert lines[2].startswith("GET - 404 ")
    assert len(lines) == 3  # BaseHTTPRequestHandler's own log lines are silenced


def test_requests_run_concurrently(serve: Callable[..., LocalApi]) -> None:
    """Four handler calls must be inside the handler at once to pass the barrier."""
    barrier = threading.Barrier(4, timeout=10)

    def meet(event: dict[str, Any], context: Any) -> dict[str, Any]:
        barrier.wait()
        return {"statusCode": 200, "body": "met"}

    api = serve([INTAKE], {"IntakeFunction": meet})
    results = _race(4, lambda _: call(api, "POST", "/v1/households/1/responses", body=b"{}"))
    assert [(status, body) for status, _, body in results] == [(200, b"met")] * 4


def test_serialize_never_runs_two_handlers_at_once(serve: Callable[..., LocalApi]) -> None:
    state = {"active": 0, "most": 0}
    lock = threading.Lock()

    def slow(event: dict[str, Any], context: Any) -> dict[str, Any]:
        with lock:
            state["active"] += 1
            state["most"] = max(state["most"], state["active"])
        time.sleep(0.02)  # a window in which an unserialized second call would overlap
        with lock:
            state["active"] -= 1
        return {"statusCode": 200, "body": "ok"}

    api = serve([INTAKE], {"IntakeFunction": slow}, serialize=True)
    results = _race(8, lambda _: call(api, "POST", "/v1/households/1/responses", body=b"{}")[0])
    assert results == [200] * 8
    assert state["most"] == 1

    # The same handler without serialize does overlap, so the check above can fail.
    state["most"] = 0
    parallel = serve([INTAKE], {"IntakeFunction": slow})
    _race(8, lambda _: call(parallel, "POST", "/v1/households/1/responses", body=b"{}")[0])
    assert state["most"] > 1


def _race(count: int, work: Callable[[int], Any]) -> list[Any]:
    start = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        start.wait()
        results[i] = work(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def _verify(token: str) -> dict[str, str]:
    return verify_token(token, secret=SECRET)


@pytest.fixture
def guarded(serve: Callable[..., LocalApi]) -> tuple[LocalApi, list[dict[str, Any]]]:
    """A protected route and a public one behind the local Cognito stand-in; records handler calls."""
    calls: list[dict[str, Any]] = []

    def record(event: dict[str, Any], context: Any) -> dict[str, Any]:
        calls.append(event)
        return echo(event, context)

    api = serve([WORKLIST, THING], {"WorklistFunction": record, "ThingFunction": record}, authorize=_verify)
    return api, calls


def test_a_protected_route_without_a_token_is_401_without_calling_the_handler(
    guarded: tuple[LocalApi, list[dict[str, Any]]],
) -> None:
    api, calls = guarded
    assert error_of(*call(api, "GET", "/v1/worklist")) == (401, "unauthorized")
    assert error_of(*call(api, "GET", "/v1/worklist", headers={"Authorization": "Bearer "})) == (401, "unauthorized")
    status, headers, _ = call(api, "OPTIONS", "/v1/worklist")  # a CORS preflight carries no token
    assert status == 204 and "GET" in headers["Allow"]
    assert calls == []


def test_a_bad_or_expired_token_is_401(guarded: tuple[LocalApi, list[dict[str, Any]]]) -> None:
    api, calls = guarded
    forged = mint_token("OFC-0001", "officer", secret=b"x" * 32)
    expired = mint_token(
        "OFC-0001", "officer", secret=SECRET, ttl_seconds=60, now=datetime.now(UTC) - timedelta(hours=1)
    )
    for token, reason in ((forged, "signature"), (expired, "expired"), ("garbage", "not a signed token")):
        status, headers, body = call(api, "GET", "/v1/worklist", headers={"Authorization": f"Bearer {token}"})
        assert error_of(status, headers, body) == (401, "unauthorized")
        assert reason in json.loads(body)["error"]["message"]
    assert calls == []


def test_a_valid_token_puts_the_claims_where_api_gateway_does(
    guarded: tuple[LocalApi, list[dict[str, Any]]], capfd: pytest.CaptureFixture[str]
) -> None:
    api, calls = guarded
    token = mint_token("OFC-0001", "officer", secret=SECRET)
    bearer = echoed(api, "GET", "/v1/worklist", headers={"Authorization": f"Bearer {token}"})["event"]
    raw = echoed(api, "GET", "/v1/worklist", headers={"Authorization": token})["event"]  # no scheme, as Cognito allows
    for event in (bearer, raw):
        claims = event["requestContext"]["authorizer"]["claims"]
        assert claims == verify_token(token, secret=SECRET)
        assert claims["cognito:username"] == "OFC-0001" and claims["cognito:groups"] == "officer"
        assert all(isinstance(value, str) for value in claims.values())
    assert len(calls) == 2
    err = capfd.readouterr().err
    assert token not in err and "OFC-0001" not in err  # neither the token nor its claims are logged
    assert err.count("GET /v1/worklist 200 ") == 2


def test_a_public_route_never_gets_claims(guarded: tuple[LocalApi, list[dict[str, Any]]]) -> None:
    api, _ = guarded
    token = mint_token("OFC-0001", "officer", secret=SECRET)
    for headers in ({}, {"Authorization": f"Bearer {token}"}, {"Authorization": "Bearer garbage"}):
        event = echoed(api, "GET", "/v1/things/1", headers=headers)["event"]
        assert "authorizer" not in event["requestContext"]


def test_a_protected_route_without_an_authorizer_configured_is_500(serve: Callable[..., LocalApi]) -> None:
    calls: list[dict[str, Any]] = []
    api = serve([WORKLIST, THING], {"WorklistFunction": lambda e, c: calls.append(e)})
    token = mint_token("OFC-0001", "officer", secret=SECRET)
    status, headers, body = call(api, "GET", "/v1/worklist", headers={"Authorization": f"Bearer {token}"})
    assert error_of(status, headers, body) == (500, "authorizer_not_configured")
    assert calls == []
    assert call(api, "GET", "/v1/things/1")[0] == 200  # public routes are still served


def test_an_authorizer_that_fails_refuses_the_request(serve: Callable[..., LocalApi]) -> None:
    """Any failure of the check (a bug included) refuses, never lets the request through."""

    def broken(token: str) -> dict[str, str]:
        raise KeyError("jwks")

    for authorize in (broken, lambda token: None):
        api = serve([WORKLIST], {"WorklistFunction": lambda e, c: 1 / 0}, authorize=authorize)
        assert error_of(*call(api, "GET", "/v1/worklist", headers={"Authorization": "t"})) == (401, "unauthorized")


def test_the_default_loader_imports_a_handler_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real module with Powertools' Logger and Metrics: the context has what they read."""
    package = f"local_api_fn_{uuid.uuid4().hex[:8]}"
    (tmp_path / package).mkdir()
    (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / package / "app.py").write_text(
        "import json\n"
        "from aws_lambda_powertools import Logger, Metrics\n"
        "logger = Logger(service='local-api-test')\n"
        "metrics = Metrics(namespace='LocalApiTest', service='local-api-test')\n"
        "@logger.inject_lambda_context\n"
        "@metrics.log_metrics(capture_cold_start_metric=True)\n"
        "def handler(event, context):\n"
        "    metrics.add_metric(name='Calls', unit='Count', value=1)\n"
        "    logger.info('called')\n"
        "    return {'statusCode': 200, 'body': json.dumps({'kk': event['pathParameters']['kk']})}\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    route = ApiRoute("TmpFunction", "POST", "/v1/households/{kk}/responses", f"{package}/", "app.handler")
    with LocalApi([route], port=0) as api:
        status, _, body = call(api, "POST", "/v1/households/42/responses", body=b"{}")
    assert (status, json.loads(body)) == (200, {"kk": "42"})


def test_routes_api_gateway_would_refuse() -> None:
    with pytest.raises(ValueError, match="routed twice"):
        LocalApi([INTAKE, INTAKE], port=0)
    other_name = ApiRoute("Other", "GET", "/v1/households/{id}/responses", "functions/x/", "app.h")
    with pytest.raises(ValueError, match="variable names"):
        LocalApi([INTAKE, other_name], port=0)
    greedy_in_middle = ApiRoute("Other", "GET", "/v1/{rest+}/x", "functions/x/", "app.h")
    with pytest.raises(ValueError, match="bad path template"):
        LocalApi([greedy_in_middle], port=0)


def test_url_and_shutdown(serve: Callable[..., LocalApi]) -> None:
    api = serve([ROOT])
    assert api.url == f"http://127.0.0.1:{api.port}" and api.port > 0
    assert call(api, "GET", "/")[0] == 200
    api.shutdown()
    api.shutdown()  # idempotent
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(api.url + "/", timeout=5)


def test_until_the_store_is_ready_the_site_answers_and_api_requests_wait(
    serve: Callable[..., LocalApi], tmp_path: Path
) -> None:
    """`census serve` listens before DynamoDB Local has started: the site is there at once, an
    API request waits for the store, and one that waits too long gets a 503 to retry."""
    (tmp_path / "index.html").write_text("the page")
    calls: list[str] = []

    def counted(event: dict[str, Any], context: Any) -> dict[str, Any]:
        calls.append(event["path"])
        return echo(event, context)

    ready = threading.Event()
    api = serve([THING], {"ThingFunction": counted}, site_dir=tmp_path, ready=ready, ready_wait_seconds=0.2)
    status, _, body = call(api, "GET", "/")
    assert (status, body) == (200, b"the page")
    status, headers, body = call(api, "GET", "/v1/things/1")
    assert error_of(status, headers, body) == (503, "service_busy")
    assert headers["Retry-After"] == "5" and calls == []

    api.ready_wait_seconds = 30
    answers: list[int] = []
    waiting = threading.Thread(target=lambda: answers.append(call(api, "GET", "/v1/things/2")[0]))
    waiting.start()
    time.sleep(0.3)
    assert answers == [] and calls == []  # still waiting for the store
    ready.set()
    waiting.join(30)
    assert answers == [200] and calls == ["/v1/things/2"]
