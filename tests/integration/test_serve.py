"""The README's promise, as a newcomer would try it: `census serve` on DynamoDB Local,
submit with curl-like requests, read the API reference at /api/, stop, start again, and the
data is still there."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from census_ops.template import REPO_ROOT

pytestmark = pytest.mark.dynamodb_local


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Service:
    def __init__(self, data_dir: Path) -> None:
        self.port = _free_port()
        env = {k: v for k, v in os.environ.items() if k not in {"TABLE_NAME", "DYNAMODB_ENDPOINT_URL"}}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "census_ops.cli",
                "serve",
                "--port",
                str(self.port),
                "--households",
                "30",
                "--data-dir",
                str(data_dir),
            ],
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        self.output: list[str] = []
        ready, listening = threading.Event(), threading.Event()

        def read() -> None:
            assert self.proc.stderr is not None
            for line in self.proc.stderr:
                self.output.append(line)
                if "starting (the API answers once the store is up)" in line:
                    listening.set()
                if "Ctrl-C stops" in line:
                    ready.set()

        threading.Thread(target=read, daemon=True).start()
        # It listens first: the page answers before the store is up (and API requests wait for it).
        self.page_while_starting = self.fetch("/")[:2] if listening.wait(60) else None
        if not ready.wait(180):
            self.stop()
            raise AssertionError("census serve did not start:\n" + "".join(self.output))

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, Any]]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def fetch(self, path: str) -> tuple[int, str, bytes]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=30) as answer:
            return answer.status, answer.headers["Content-Type"], answer.read()

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(60)


def test_serve_submit_restart_and_the_data_is_still_there(tmp_path: Path) -> None:
    service = Service(tmp_path)
    try:
        printed = "".join(service.output)
        assert "curl -s -X POST" in printed
        body = json.loads((tmp_path / "example-submission.json").read_text())
        kk = printed.split("/v1/households/")[1].split("/")[0]
        first = service.request("POST", f"/v1/households/{kk}/responses", body, {"Idempotency-Key": "e2e-1"})
        retry = service.request("POST", f"/v1/households/{kk}/responses", body, {"Idempotency-Key": "e2e-1"})
        assert first[0] == 201 and retry == first
        bad = service.request("POST", f"/v1/households/{kk}/responses", {"members": []})
        assert bad[0] == 422 and bad[1]["error"]["code"]
        assert service.request("GET", "/v1/nowhere")[0] == 404
        code = first[1]["receipt_code"]
        assert service.request("GET", f"/v1/receipts/{code}")[1]["status"] == "clean"
        looked_up = service.request("POST", f"/v1/households/{kk}/status", {"respondent_nik": body["respondent_nik"]})
        assert looked_up[1]["receipt_code"] == code
        status, content_type, pdf = service.fetch(f"/v1/receipts/{code}/proof")
        assert (status, content_type, pdf[:5]) == (200, "application/pdf", b"%PDF-")
        # Beside the API: the resident page at /, the API reference at /api/ with its document.
        status, content_type, page = service.fetch("/api/")
        assert (status, content_type) == (200, "text/html; charset=utf-8")
        assert b'src="swagger-ui-bundle.js"' in page and b'src="reference.js"' in page
        status, content_type, document = service.fetch("/api/openapi.json")
        assert (status, content_type) == (200, "application/json")
        assert document == (REPO_ROOT / "docs" / "openapi.json").read_bytes()
        assert service.fetch("/api/swagger-ui-bundle.js")[:2] == (200, "text/javascript; charset=utf-8")
        assert service.fetch("/api/swagger-ui.css")[:2] == (200, "text/css; charset=utf-8")
        assert service.fetch("/")[1] == "text/html; charset=utf-8"
        assert "API reference: http://127.0.0.1:" in printed
    finally:
        service.stop()
    assert service.proc.returncode is not None

    again = Service(tmp_path)
    try:
        assert "already imported" in "".join(again.output)
        assert again.page_while_starting == service.page_while_starting == (200, "text/html; charset=utf-8")
        body["members"][0]["education"] = "master"
        status, answer = again.request("POST", f"/v1/households/{kk}/responses", body)
        assert (status, answer["version"], answer["receipt_code"]) == (200, 2, first[1]["receipt_code"])
        # The receipt's later changes come from the table's stream: `census serve` runs the
        # same consumer (functions/progress_stream) on DynamoDB Local's stream.
        deadline = time.monotonic() + 60
        while again.request("GET", f"/v1/receipts/{code}")[1]["version"] != 2:
            assert time.monotonic() < deadline, "the receipt was not refreshed from the stream"
            time.sleep(0.2)
    finally:
        again.stop()
    time.sleep(0.5)
