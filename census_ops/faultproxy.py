"""A DynamoDB fault injector: an HTTP proxy that speaks DynamoDB's wire protocol (JSON 1.0
over HTTP) and forwards every call to an upstream DynamoDB (Local) unless a fault matches
the call's X-Amz-Target operation. The handlers, PynamoDB and botocore all run unchanged.

Used by the fault tests (tests/integration/test_faults.py) and `census soak` (slow calls).
Faults: DynamoDB error codes (throttling, its own 500...), "timeout" (hold the call, never
forward it), "lost_answer" (forward it, then never answer), "reset" (drop the connection),
"delay:<seconds>" (answer late), "cancel:<reason>" (a TransactWriteItems cancelled)."""

from __future__ import annotations

import http.client
import json
import random
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

_PREFIX = "com.amazonaws.dynamodb.v20120810#"


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (its read timeout) while a call was held is the point, not an error."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@dataclass
class Fault:
    kind: str  # see the module docstring
    operation: str | None = None  # None: every operation
    times: int | None = None  # None: every matching call
    share: float = 1.0  # the share of matching calls it hits (at random)


class FaultProxy:
    """Forwards DynamoDB calls to `upstream`, failing those a fault matches."""

    hang_seconds = 1.6  # "timeout" and "lost_answer" hold the call this long: past the 1 s test read timeout

    def __init__(self, upstream: str, *, seed: int = 1) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.faults: list[Fault] = []
        self.calls: list[tuple[str, str | None]] = []  # (operation, injected fault or None)
        self._lock = threading.Lock()
        self._random = random.Random(seed)  # noqa: S311 - which calls a fault hits, not a secret
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                operation = (self.headers.get("X-Amz-Target") or "").rsplit(".", 1)[-1]
                fault = proxy._take(operation)
                if fault is None:
                    self._forward(body)
                elif fault.kind.startswith("delay:"):  # slow, but the call goes through
                    time.sleep(float(fault.kind[6:]))
                    self._forward(body)
                elif fault.kind == "timeout":
                    time.sleep(proxy.hang_seconds)
                    self.close_connection = True
                elif fault.kind == "lost_answer":  # DynamoDB did it; the answer never arrives
                    self._forward(body, deliver=False)
                    time.sleep(proxy.hang_seconds)
                    self.close_connection = True
                elif fault.kind == "reset":
                    self.close_connection = True
                elif fault.kind.startswith("cancel:"):
                    count = len(json.loads(body).get("TransactItems", [])) or 1
                    reasons = [{"Code": "None"}] * (count - 1) + [{"Code": fault.kind[7:], "Message": "injected"}]
                    self._answer(
                        400,
                        {
                            "__type": _PREFIX + "TransactionCanceledException",
                            "message": "Transaction cancelled, please refer cancellation reasons for specific reasons",
                            "CancellationReasons": reasons,
                        },
                    )
                else:
                    status = 500 if fault.kind == "InternalServerError" else 400
                    self._answer(status, {"__type": _PREFIX + fault.kind, "message": "injected"})

            def _answer(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _forward(self, body: bytes, deliver: bool = True) -> None:
                upstream = http.client.HTTPConnection(*proxy.upstream, timeout=30)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in {"connection", "keep-alive"}}
                    upstream.request("POST", self.path, body=body, headers=headers)
                    answer = upstream.getresponse()
                    data = answer.read()
                    if not deliver:
                        return
                    self.send_response(answer.status)
                    for name, value in answer.getheaders():
                        if name.lower() not in {"transfer-encoding", "connection", "content-length"}:
                            self.send_header(name, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                finally:
                    upstream.close()

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def _take(self, operation: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.operation in (None, operation) and (fault.times is None or fault.times > 0):
                    if fault.share < 1.0 and self._random.random() >= fault.share:
                        continue
                    if fault.times is not None:
                        fault.times -= 1
                    self.calls.append((operation, fault.kind))
                    return fault
            self.calls.append((operation, None))
            return None

    def inject(self, *faults: Fault) -> None:
        with self._lock:
            self.faults = list(faults)
            self.calls = []

    def clear(self) -> None:
        self.inject()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
