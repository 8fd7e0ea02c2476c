"""No personal data in any log line. The whole scenario - every route of the API, over
HTTP through the local API Gateway, on DynamoDB Local - runs with everything captured: the
process's stdout and stderr (Powertools' JSON lines, the access log), and every record any
logger emits with the root logger at DEBUG (as POWERTOOLS_DEBUG or a debugging operator
would set it; the libraries that quote requests stay capped as in production by
shared/observability.py). Then no NIK, name, address, KK, password, session token or
visit note used in the scenario may appear anywhere in what was logged.

Nothing in the code logs a request or response payload, so there is nothing for
Powertools' data masking to mask; this test is what keeps it that way."""

from __future__ import annotations

import http.client
import json
import logging
import os
import secrets
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from census_ops.local_api import LocalApi
from census_ops.template import api_routes, create_table
from census_ops.tokens import mint_token, verify_token
from shared.intake import iso_utc
from tests.conftest import submission_body, use_table
from tests.integration.scenario import CITY, CITY_SUPERVISOR, populate

pytestmark = pytest.mark.dynamodb_local

PHONE = "0812 7788 9911"  # a reporter's phone number: personal data like the rest


class Everything(logging.Handler):
    """Every record with every attribute (extra fields included), as text."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        fields = {k: v for k, v in record.__dict__.items() if k not in {"args", "exc_info"}}
        self.lines.append(record.getMessage() + " " + json.dumps(fields, default=str, ensure_ascii=False))
        if record.exc_info:
            self.lines.append(logging.Formatter().formatException(record.exc_info))


@pytest.fixture
def captured() -> Iterator[Everything]:
    from shared.observability import logger

    handler = Everything()
    root = logging.getLogger()
    powertools = logging.getLogger(logger.name)
    saved = (root.level, powertools.level)
    root.addHandler(handler)
    powertools.addHandler(handler)
    root.setLevel(logging.DEBUG)
    logger.setLevel("DEBUG")
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        powertools.removeHandler(handler)
        root.setLevel(saved[0])
        powertools.setLevel(saved[1])


class Client:
    def __init__(self, api: LocalApi) -> None:
        self.api = api
        self.answers: list[tuple[str, int]] = []

    def __call__(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any, dict[str, str]]:
        connection = http.client.HTTPConnection(self.api.host, self.api.port, timeout=60)
        data = None if body is None else json.dumps(body).encode()
        connection.request(method, path, body=data, headers={"Content-Type": "application/json", **(headers or {})})
        answer = connection.getresponse()
        raw = answer.read()
        connection.close()
        self.answers.append((f"{method} {path}", answer.status))
        parsed = json.loads(raw) if answer.getheader("Content-Type", "").startswith("application/json") else raw
        return answer.status, parsed, dict(answer.getheaders())


# Where the officer stood (paradata, with consent): stored with the visit, never logged.
POSITION = {"lat": -2.987654321, "lon": 104.712345678, "accuracy": 7.25}


def test_no_personal_data_in_any_log_line_across_every_route(
    dynamodb_local: Any,
    tmp_path: Any,
    captured: Everything,
    capfd: pytest.CaptureFixture[str],
) -> None:
    saved = dict(os.environ)
    os.environ["SESSION_SIGNING_KEY"] = secrets.token_hex(32)
    table = f"census-logs-{uuid.uuid4().hex[:8]}"
    create_table(dynamodb_local.client(), table)
    use_table(table, dynamodb_local.endpoint_url)
    try:
        field = populate(tmp_path, households=60, officers=4)
        secret = secrets.token_bytes(32)
        supervisor = {"Authorization": f"Bearer {mint_token(CITY_SUPERVISOR, 'supervisor', secret=secret)}"}
        officer_id = max(field.officers(), key=lambda o: len(field.assigned(o)))
        officer = {"Authorization": f"Bearer {mint_token(officer_id, 'officer', secret=secret)}"}
        visited, interviewed = field.assigned(officer_id)[:2]
        busy = set(field.assigned(officer_id))
        residents = [h for h in field.households if h.kk not in busy]
        a, b, stranger = residents[0], residents[1], residents[2]
        password, note = "Mangga-Harum-" + secrets.token_hex(4), f"tetangga {a.members[0].name} bilang sore"
        used = [a, b, stranger, field.household(visited), field.household(interviewed)]
        with LocalApi(api_routes(), port=0, authorize=lambda t: verify_token(t, secret=secret)) as api:
            send = Client(api)
            tokens = _scenario(send, field, a, b, stranger, password, note, supervisor, officer, visited, interviewed)
        statuses = {route: status for route, status in send.answers}
        assert all(status < 500 for status in statuses.values()), statuses
        covered = {(r.method, r.path) for r in api_routes()}
        reached = {_template_of(route) for route, _ in send.answers}
        assert covered <= reached, f"routes the scenario did not run: {covered - reached}"
    finally:
        os.environ.clear()
        os.environ.update(saved)

    out, err = capfd.readouterr()
    logged = "\n".join([out, err, *captured.lines])
    assert "response stored" in logged and "request refused" in logged, "the capture sees the logs"
    assert "visit recorded" in logged and "signed in" in logged
    assert len(captured.lines) > 20
    secrets_ = [password, note, PHONE, *tokens, str(POSITION["lat"]), str(POSITION["lon"])]
    for household in used:
        secrets_ += [household.kk, household.address]
        for member in household.members:
            secrets_ += [member.nik, member.name]
    leaked = sorted({s for s in secrets_ if s and s in logged})
    assert not leaked, f"personal data in logs: {len(leaked)} values, e.g. a {_kind(leaked[0], used)}"


def _kind(value: str, households: list[Any]) -> str:
    for household in households:
        if value == household.kk:
            return "KK"
        if value == household.address:
            return "address"
        for member in household.members:
            if value == member.nik:
                return "NIK"
            if value == member.name:
                return "name"
    return "password, token or note"


def _template_of(route: str) -> tuple[str, str]:
    method, path = route.split(" ", 1)
    from census_ops.local_api import LocalApi as _Api

    api = _Api(api_routes(), port=0)
    try:
        found = api.resolve(path.split("?")[0])
    finally:
        api.shutdown()
    return method, found[0].path if found else path


def _scenario(
    send: Client,
    field: Any,
    a: Any,
    b: Any,
    stranger: Any,
    password: str,
    note: str,
    supervisor: dict[str, str],
    officer: dict[str, str],
    visited: str,
    interviewed: str,
) -> list[str]:
    """Every route, successes and refusals; returns the session tokens it was given."""
    tokens: list[str] = []
    # a resident signs in (sets the password), reads the household, saves a draft, submits with the session
    status, signed, _ = send("POST", "/v1/sessions", {"kk": a.kk, "nik": a.members[0].nik, "new_password": password})
    assert status == 201, signed
    tokens.append(signed["token"])
    session = {"Authorization": f"Bearer {signed['token']}"}
    assert send("GET", "/v1/session/household", headers=session)[0] == 200
    draft = {"members": [{"name": a.members[0].name, "nik": a.members[0].nik}]}
    status, saved, _ = send("PUT", "/v1/session/household/draft", draft, session)
    assert status == 200, saved
    body = submission_body(a)
    body.pop("respondent_nik")
    assert send("POST", f"/v1/households/{a.kk}/responses", body, session)[0] == 201
    # KK + NIK alone no longer work for a: refused, and logged as refused
    assert send("POST", f"/v1/households/{a.kk}/status", {"respondent_nik": a.members[0].nik})[0] == 401
    again = {"kk": a.kk, "nik": a.members[1 % len(a.members)].nik, "password": password}
    status, second, _ = send("POST", "/v1/sessions", again)
    assert status == 201, second
    tokens.append(second["token"])
    assert send("POST", "/v1/sessions", {**again, "password": password + "x"})[0] == 401
    # another household with KK + NIK: submit, replay, correct, refusals
    body = submission_body(b)
    key = {"Idempotency-Key": "log-check-1"}
    status, receipt, _ = send("POST", f"/v1/households/{b.kk}/responses", body, key)
    assert status == 201, receipt
    assert send("POST", f"/v1/households/{b.kk}/responses", body, key)[0] == 201
    corrected = submission_body(b)
    corrected["members"][0]["education"] = "doctorate"
    assert send("POST", f"/v1/households/{b.kk}/responses", corrected, key)[0] == 422  # key reused
    assert send("POST", f"/v1/households/{b.kk}/responses", corrected)[0] == 200
    invalid = submission_body(b)
    invalid["members"][0]["birth_date"] = "2999-01-01"
    invalid["members"][0]["name"] = invalid["members"][0]["name"] + "\u0007"
    assert send("POST", f"/v1/households/{b.kk}/responses", invalid)[0] == 422
    assert send("POST", f"/v1/households/{b.kk}/status", {"respondent_nik": b.members[0].nik})[0] == 200
    code = receipt["receipt_code"]
    assert send("GET", f"/v1/receipts/{code}")[0] == 200
    assert send("GET", f"/v1/receipts/{code}/proof")[0] == 200
    # guessing: a stranger's NIK on b's KK until the lock
    for _ in range(6):
        send("POST", f"/v1/households/{b.kk}/status", {"respondent_nik": stranger.members[0].nik})
    assert send("POST", f"/v1/households/{b.kk}/status", {"respondent_nik": b.members[0].nik})[0] == 429
    # field work
    assert send("POST", f"/v1/areas/{CITY}/worklists", headers=supervisor)[0] == 201
    assert send("GET", "/v1/officers/me/worklist?limit=5", headers=officer)[0] == 200
    assert send("GET", f"/v1/households/{visited}", headers=officer)[0] == 200
    visit = {"outcome": "not_home", "note": note, "position": POSITION, "recorded_at": iso_utc(datetime.now(UTC))}
    assert send("POST", f"/v1/households/{visited}/visits", visit, {**officer, "Idempotency-Key": "v-1"})[0] == 201
    household = field.household(interviewed)
    interview = {"outcome": "interviewed", "response": submission_body(household)}
    assert send("POST", f"/v1/households/{interviewed}/visits", interview, officer)[0] == 201
    assert send("GET", f"/v1/households/{b.kk}", headers=officer)[0] == 403
    assert send("GET", f"/v1/areas/{CITY}/progress", headers=supervisor)[0] == 200
    reset = send("POST", f"/v1/households/{a.kk}/password-reset", {}, supervisor)
    assert reset[0] == 200, reset[1]
    assert send("GET", "/v1/session/household", headers={"Authorization": "Bearer " + tokens[0][:-3] + "xyz"})[0] == 401
    # the supervisors' console: who am I, figures over time, worklists, review, audit
    assert send("GET", "/v1/staff/me", headers=supervisor)[0] == 200
    assert send("GET", f"/v1/areas/{CITY}/progress/history", headers=supervisor)[0] == 200
    assert send("GET", f"/v1/areas/{CITY}/worklists/preview", headers=supervisor)[0] == 200
    assert send("GET", f"/v1/areas/{CITY}/worklists", headers=supervisor)[0] == 200
    reassign = {"from_officer": "nobody", "to_officer": "nobody-else", "sls_code": a.sls_code}
    assert send("POST", f"/v1/areas/{CITY}/worklists/reassign", reassign, supervisor)[0] < 500
    assert send("GET", f"/v1/areas/{CITY}/review", headers=supervisor)[0] == 200
    assert send("GET", f"/v1/households/{b.kk}/review", headers=supervisor)[0] < 500
    decision = {"decision": "accept", "expected_version": 1, "note": note}
    assert send("POST", f"/v1/households/{b.kk}/review", decision, supervisor)[0] < 500
    bulk = {"decision": "accept", "note": note, "reason": "head_not_on_register"}
    assert send("POST", f"/v1/areas/{CITY}/review/decisions", bulk, supervisor)[0] < 500
    assert send("GET", f"/v1/households/{b.kk}/audit", headers=supervisor)[0] == 200
    assert send("GET", f"/v1/areas/{CITY}/audit", headers=supervisor)[0] == 200
    assert send("GET", f"/v1/areas/{CITY}/tables/pyramid", headers=supervisor)[0] < 500
    # a household the register missed reports itself; the area lists; an officer's resolution
    assert send("GET", "/v1/areas")[0] == 200
    assert send("GET", f"/v1/areas/{CITY}/children")[0] == 200
    report = {
        "kk": stranger.kk,
        "nik": stranger.members[0].nik,
        "head_name": stranger.members[0].name,
        "address": stranger.address,
        "sls_code": stranger.sls_code,
        "phone": PHONE,
    }
    status, filed, _ = send("POST", "/v1/reports", report, {"Idempotency-Key": "report-1"})
    assert status < 500, filed
    reference = filed.get("reference", "0000000000000")
    assert send("GET", f"/v1/reports/{reference}")[0] < 500
    assert send("POST", f"/v1/reports/{reference}/resolution", {"outcome": "not_found"}, officer)[0] < 500
    found = {"kk": stranger.kk, "sls_code": stranger.sls_code, "response": submission_body(stranger)}
    assert send("POST", "/v1/households", found, officer)[0] < 500
    return tokens
