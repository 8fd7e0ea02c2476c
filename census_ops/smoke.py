"""`census smoke --url URL`: a short end-to-end check of a deployed stage (or the local
service), one line per step, exit status 0 when every step passed.

It submits a response for a reserved test household, submits it again with the same
Idempotency-Key (the same answer, marked as a replay), looks the household up by receipt
code and by KK + NIK, fetches the proof PDF, checks that an error answer has the API's
error shape, and that an officer route refuses a request without a token.

The reserved test household is one household of a register CSV (the one it was imported
from): `--register FILE` and `--kk KK` (or CENSUS_SMOKE_REGISTER and CENSUS_SMOKE_KK).
Against the local service they default to the demo register's first household. For a
deployed stage they must be given: a synthetic household the statistics office has set
aside for this, imported with `census import-register` (docs/deploy.md); every run adds a
response version to it, and to it only. The output never shows a NIK, a name, or the KK
unmasked.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

from census_ops.examples import example_submission
from census_ops.register import RegisterHousehold

REGISTER_ENV = "CENSUS_SMOKE_REGISTER"
KK_ENV = "CENSUS_SMOKE_KK"
GUARDED_PATH = "/v1/officers/me/worklist"  # any route behind the Cognito authorizer
RECEIPT_LAG_SECONDS = 15.0  # the stream consumer's lag, with room (its alarm fires at 60 s)
NOT_A_RECEIPT = "UUUU-UUUU-UUUU-U"  # U is not in the receipt alphabet: always refused
_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


class SmokeFailure(Exception):
    """A step's expectation was not met; the message says which, without personal data."""


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    millis: float

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            raise SmokeFailure(f"HTTP {self.status}: the body is not JSON") from None

    def error_code(self) -> str | None:
        try:
            error = json.loads(self.body).get("error")
        except (ValueError, AttributeError):
            return None
        return error.get("code") if isinstance(error, dict) else None


@dataclass
class Client:
    base_url: str
    timeout: float = 30.0
    requests: int = field(default=0)

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Answer:
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(  # noqa: S310 - the operator's URL, checked to be http(s)
            self.base_url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json", "Accept": "*/*", **(headers or {})},
        )
        started = time.perf_counter()
        self.requests += 1
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310
                status, head, payload = answer.status, dict(answer.headers.items()), answer.read()
        except urllib.error.HTTPError as error:
            status, head, payload = error.code, dict(error.headers.items()), error.read()
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            # The path is not quoted: it can hold the household's KK.
            raise SmokeFailure(f"{method} request failed: {getattr(error, 'reason', error)}") from None
        return Answer(status, {k.lower(): v for k, v in head.items()}, payload, (time.perf_counter() - started) * 1000)


def _summary(answer: Answer, payload: dict[str, Any]) -> str:
    return f"{answer.status} {payload.get('status')} version {payload.get('version')} ({answer.millis:.0f} ms)"


def mask_kk(kk: str) -> str:
    return kk[:6] + "*" * max(0, len(kk) - 10) + kk[-4:]


def submission(household: RegisterHousehold) -> dict[str, Any]:
    """A valid response for the household: its register members, confirmed as they are."""
    return example_submission(household)


@dataclass
class Smoke:
    client: Client
    household: RegisterHousehold
    out: TextIO
    receipt_code: str | None = None
    version: int | None = None
    submitted: Answer | None = None
    body: dict[str, Any] = field(default_factory=dict)
    key: str = field(default_factory=lambda: f"smoke-{uuid.uuid4().hex[:20]}")
    results: list[str] = field(default_factory=list)

    # Each step returns (status word, detail) or raises SmokeFailure.

    def submit(self) -> tuple[str, str]:
        self.body = submission(self.household)
        answer = self.client.call(
            "POST", f"/v1/households/{self.household.kk}/responses", self.body, {"Idempotency-Key": self.key}
        )
        if answer.status == 403 and answer.error_code() == "online_phase_closed":
            return "skip", "403 online_phase_closed: the online phase is not open"
        payload = self._expect(answer, {200, 201})
        self.submitted = answer
        self.receipt_code, self.version = payload["receipt_code"], int(payload["version"])
        return "ok", f"{answer.status} version {self.version} {payload['status']} ({answer.millis:.0f} ms)"

    def replay(self) -> tuple[str, str]:
        if self.submitted is None:
            return "skip", "nothing was submitted"
        answer = self.client.call(
            "POST", f"/v1/households/{self.household.kk}/responses", self.body, {"Idempotency-Key": self.key}
        )
        payload = self._expect(answer, {self.submitted.status})
        if payload != self.submitted.json():
            raise SmokeFailure("the replay's answer differs from the first")
        if answer.headers.get("idempotent-replayed") != "true":
            raise SmokeFailure("no Idempotent-Replayed: true header on the replay")
        return "ok", f"{answer.status} same answer, Idempotent-Replayed ({answer.millis:.0f} ms)"

    def status_by_kk(self) -> tuple[str, str]:
        answer = self.client.call(
            "POST", f"/v1/households/{self.household.kk}/status", {"respondent_nik": self.body_nik()}
        )
        payload = self._expect(answer, {200})
        if self.receipt_code is None:
            self.receipt_code = payload.get("receipt_code")
        elif payload.get("receipt_code") != self.receipt_code:
            raise SmokeFailure("the KK + NIK lookup names another receipt code")
        return "ok", _summary(answer, payload)

    def status_by_receipt(self) -> tuple[str, str]:
        if not self.receipt_code:
            return "skip", "the household has no receipt code yet"
        # A first submission's receipt is written with it; a later version's reaches the
        # receipt from the table's stream a second or so after (docs/decisions/0019).
        deadline = time.monotonic() + RECEIPT_LAG_SECONDS
        while True:
            answer = self.client.call("GET", f"/v1/receipts/{self.receipt_code}")
            payload = self._expect(answer, {200})
            if self.version is None or payload.get("version") == self.version:
                return "ok", _summary(answer, payload)
            if time.monotonic() > deadline:
                raise SmokeFailure(
                    f"version {payload.get('version')}, expected {self.version} after {RECEIPT_LAG_SECONDS:g} s"
                )
            time.sleep(0.5)

    def proof(self) -> tuple[str, str]:
        if not self.receipt_code:
            return "skip", "the household has no receipt code yet"
        path = f"/v1/receipts/{self.receipt_code}/proof"
        answer = self.client.call("GET", path, headers={"Accept": "application/pdf"})
        if answer.status != 200:
            raise SmokeFailure(f"HTTP {answer.status} {answer.error_code() or ''}".strip())
        content_type = answer.headers.get("content-type", "")
        if not content_type.startswith("application/pdf") or not answer.body.startswith(b"%PDF-"):
            raise SmokeFailure(f"not a PDF ({content_type}, {len(answer.body)} bytes)")
        return "ok", f"{answer.status} application/pdf, {len(answer.body)} bytes ({answer.millis:.0f} ms)"

    def error_shape(self) -> tuple[str, str]:
        answer = self.client.call("GET", f"/v1/receipts/{NOT_A_RECEIPT}")
        error = self._error(answer, 400)
        if error["code"] != "invalid_receipt_code":
            raise SmokeFailure(f"code {error['code']}, expected invalid_receipt_code")
        return "ok", f"{answer.status} {error['code']} with code, message, field ({answer.millis:.0f} ms)"

    def guarded(self) -> tuple[str, str]:
        answer = self.client.call("GET", GUARDED_PATH)
        error = self._error(answer, 401)
        return "ok", f"{answer.status} {error['code']} without a token ({answer.millis:.0f} ms)"

    def body_nik(self) -> str:
        return self.household.members[-1].nik

    @staticmethod
    def _expect(answer: Answer, statuses: set[int]) -> dict[str, Any]:
        if answer.status not in statuses:
            code = answer.error_code()
            raise SmokeFailure(f"HTTP {answer.status}{' ' + code if code else ''}, expected {sorted(statuses)}")
        payload = answer.json()
        if not isinstance(payload, dict):
            raise SmokeFailure("the answer is not a JSON object")
        return payload

    @staticmethod
    def _error(answer: Answer, status: int) -> dict[str, Any]:
        if answer.status != status:
            raise SmokeFailure(f"HTTP {answer.status}, expected {status}")
        error = answer.json().get("error") if isinstance(answer.json(), dict) else None
        if not isinstance(error, dict) or not {"code", "message", "field"} <= set(error):
            raise SmokeFailure('not the error shape {"error": {"code", "message", "field"}}')
        if not isinstance(error["code"], str) or not isinstance(error["message"], str):
            raise SmokeFailure("error code and message must be strings")
        return error

    def steps(self) -> list[tuple[str, Callable[[], tuple[str, str]]]]:
        return [
            ("submit", self.submit),
            ("replay", self.replay),
            ("status by KK+NIK", self.status_by_kk),
            ("status by receipt", self.status_by_receipt),
            ("proof PDF", self.proof),
            ("error shape", self.error_shape),
            ("officer route", self.guarded),
        ]

    def run(self) -> bool:
        failed = 0
        for name, step in self.steps():
            try:
                word, detail = step()
            except SmokeFailure as failure:
                word, detail = "FAIL", str(failure)
                failed += 1
            self.out.write(f"{word:<4}  {name:<18} {detail}\n")
            self.out.flush()
        total = len(self.steps())
        if failed:
            self.out.write(f"smoke: {failed} of {total} steps failed ({self.client.base_url})\n")
        else:
            self.out.write(f"smoke: every step passed ({self.client.base_url})\n")
        return failed == 0


def load_household(register: Path, kk: str | None) -> RegisterHousehold:
    from census_ops.register import read_register

    with register.open(newline="", encoding="utf-8") as stream:
        for household in read_register(stream):
            if isinstance(household, list):
                continue
            if kk is None or household.kk == kk:
                return household
    raise ValueError(f"{register.name}: no household {mask_kk(kk) if kk else ''} there".replace("  ", " "))


def cmd_smoke(args: argparse.Namespace) -> int:
    url = args.url.rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        print("census smoke: --url must be http(s)://host[:port][/stage]", file=sys.stderr)
        return 2
    register_arg = args.register or os.environ.get(REGISTER_ENV)
    kk = args.kk or os.environ.get(KK_ENV)
    if register_arg is None:
        if parts.hostname not in _LOCAL_HOSTS:
            print(
                f"census smoke: a deployed stage needs the reserved test household: --register FILE [--kk KK]"
                f" (or {REGISTER_ENV}, {KK_ENV}); see docs/deploy.md",
                file=sys.stderr,
            )
            return 2
        register_arg = str(Path(args.data_dir) / "demo-register.csv")
    register = Path(register_arg)
    if not register.is_file():
        print(f"census smoke: no such register file: {register}", file=sys.stderr)
        return 2
    try:
        household = load_household(register, kk)
    except ValueError as error:
        print(f"census smoke: {error}", file=sys.stderr)
        return 2
    print(f"smoke test of {url} with household {mask_kk(household.kk)}", file=sys.stdout)
    smoke = Smoke(Client(url, timeout=args.timeout), household, sys.stdout)
    return 0 if smoke.run() else 1


def register(commands: Any) -> None:
    """Add `census smoke` to the CLI's subcommands."""
    from census_ops.runtime import DEFAULT_DATA_DIR

    smoke = commands.add_parser(
        "smoke",
        help="end-to-end check of a deployed stage or the local service",
        description=(__doc__ or "").split("\n\n")[0],
    )
    smoke.add_argument("--url", required=True, help="the API's base URL, e.g. the stack's ApiUrl output")
    smoke.add_argument("--register", help=f"register CSV holding the reserved test household (or {REGISTER_ENV})")
    smoke.add_argument("--kk", help=f"the test household's KK (or {KK_ENV}); default: the file's first")
    smoke.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    smoke.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR), help="the local service's data (its demo register)")
    smoke.set_defaults(func=cmd_smoke)
