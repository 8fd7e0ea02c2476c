"""DynamoDB faults injected between the handlers and DynamoDB Local: throttling, DynamoDB's
own 500, read timeouts, dropped connections, refused connections, and transactions
cancelled for throttling or conflicts. Every route answers 503 JSON with Retry-After (never
a bare 500), and the table is exactly as it was (nothing half-written); the same request
without the fault then succeeds, so the fault - not the request - made the difference.

The injecting proxy (census_ops/faultproxy.py, also used by `census soak`) speaks DynamoDB's
wire protocol (JSON 1.0 over HTTP): it forwards every call to DynamoDB Local unless a fault
matches the call's X-Amz-Target operation, so the handlers, PynamoDB and botocore all run
unchanged."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import (
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from census_ops.faultproxy import Fault, FaultProxy
from census_ops.template import api_routes
from shared import store
from shared.settings import settings
from tests.conftest import submission_body, table_items, use_table
from tests.integration.scenario import CITY, CITY_SUPERVISOR, Field, call, handler, populate, who

pytestmark = pytest.mark.dynamodb_local

FUNCTIONS = sorted({r.code_uri.strip("/").split("/")[-1] for r in api_routes()})

# Generous enough that a busy CI machine never times out a call the proxy did not hang.
TEST_READ_TIMEOUT = 1.0
HANG_SECONDS = FaultProxy.hang_seconds  # longer than the read timeout
ONE_ATTEMPT = {"mode": "standard", "total_max_attempts": 1}


# ---------------------------------------------------------------- the census behind the proxy


@dataclass
class World:
    field: Field
    table: str
    engine_url: str
    proxy: FaultProxy
    officer: str
    online: Any  # the household that submits online
    responded: Any  # a household with a receipt
    receipt: str
    used: set[str]
    residents: list[Any]  # households for the session routes, each used once
    claimed: Any = None  # a household whose password is set
    password: str = ""

    def fresh_resident(self) -> Any:
        household = next(h for h in self.residents if h.kk not in self.used)
        self.used.add(household.kk)
        return household

    def fresh_assigned(self) -> str:
        """A household on the officer's worklist not yet visited by a test."""
        kk = next(k for k in self.field.assigned(self.officer) if k not in self.used and k != self.online.kk)
        self.used.add(kk)
        return kk

    def snapshot(self) -> list[dict[str, Any]]:
        return sorted(table_items(self.table, self.engine_url), key=lambda i: (i["pk"]["S"], i["sk"]["S"]))


@pytest.fixture(scope="module")
def world(dynamodb_local: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    import uuid

    from census_ops.template import create_table

    saved = dict(os.environ)
    os.environ["SESSION_SIGNING_KEY"] = secrets.token_hex(32)
    for function in FUNCTIONS:
        handler(function)  # imported (and bound) now, not in the middle of a case
    table = f"census-faults-{uuid.uuid4().hex[:8]}"
    create_table(dynamodb_local.client(), table)
    use_table(table, dynamodb_local.endpoint_url)
    field = populate(tmp_path_factory.mktemp("faults"), households=240)
    officer = max(field.officers(), key=lambda o: len(field.assigned(o)))
    assigned = set(field.assigned(officer))
    assert len(assigned) >= 8, "the officer needs households for every visit case"
    others = [h for h in field.households if h.kk not in assigned]
    online, responded = others[0], others[1]
    status, _, answer = call(
        "intake",
        "POST",
        "/v1/households/{kk}/responses",
        {"kk": responded.kk},
        body=submission_body(responded),
    )
    assert status == 201, answer
    residents = others[2:]
    world = World(
        field,
        table,
        dynamodb_local.endpoint_url,
        FaultProxy(dynamodb_local.endpoint_url),
        officer,
        online,
        responded,
        answer["receipt_code"],
        set(),
        residents,
    )
    world.claimed, world.password = world.fresh_resident(), "Kelapa-Muda-" + secrets.token_hex(4)
    status, _, answer = _sign_in(world.claimed, new_password=world.password)
    assert status == 201, answer
    try:
        yield world
    finally:
        world.proxy.close()
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture
def faulty(world: World) -> Iterator[World]:
    """Storage behind the proxy, one attempt per call and short timeouts: each case is about
    the mapping and the table, not botocore's retries (test_retries_absorb_... covers those)."""
    os.environ.update(TABLE_NAME=world.table, DYNAMODB_ENDPOINT_URL=world.proxy.url)
    settings.cache_clear()
    if (
        store.CensusItem.Meta.host != world.proxy.url
        or store.CensusItem.Meta.read_timeout_seconds != TEST_READ_TIMEOUT
        or store.pynamodb_retries() != ONE_ATTEMPT
    ):
        # Rebinding drops every client: done once for the module's cases, not per case.
        store.bind(
            settings(),
            connect_timeout_seconds=TEST_READ_TIMEOUT,
            read_timeout_seconds=TEST_READ_TIMEOUT,
            retries=ONE_ATTEMPT,
        )
    world.proxy.clear()
    yield world
    world.proxy.clear()


# ---------------------------------------------------------------- every route


Request = Callable[[World], tuple[str, str, str, dict[str, str], dict[str, Any]]]


def _submit(w: World) -> tuple[str, str, str, dict[str, str], dict[str, Any]]:
    body = submission_body(w.online)
    body["members"][0]["education"] = "bachelor" if len(w.used) % 2 else "master"
    w.used.add(f"submit-{len(w.used)}")
    return "intake", "POST", "/v1/households/{kk}/responses", {"kk": w.online.kk}, {"body": body}


def _receipt(w: World) -> tuple[str, str, str, dict[str, str], dict[str, Any]]:
    return "status", "GET", "/v1/receipts/{receipt_code}", {"receipt_code": w.receipt}, {}


def _proof(w: World) -> tuple[str, str, str, dict[str, str], dict[str, Any]]:
    return "status", "GET", "/v1/receipts/{receipt_code}/proof", {"receipt_code": w.receipt}, {}


def _status(w: World) -> tuple[str, str, str, dict[str, str], dict[str, Any]]:
    body = {"respondent_nik": w.responded.members[0].nik}
    return "status", "POST", "/v1/households/{kk}/status", {"kk": w.responded.kk}, {"body": body}


def _generate(w: World) -> tuple[str, str, str, dict[str, str], dict[str, Any]]:
    claims = who(CITY_SUPERVISOR, "supervisor")
    return "worklists", "POST", "/v1/areas/{area_code}/worklists", {"area_code": CITY}, {"claims": claims}


def _worklist(w: World) -> tuple[str, str, str, dict[str, str], dict[str, Any]]:
    return "fieldwork", "GET", "/v1/officers/me/worklist", {}, {"claims": who(w.officer)}


def _household(w: World) -> tuple[str, str, str, dict[str, str], dict[str, Any]]:
    kk = w.field.assigned(w.officer)[-1]
    return "fieldwork", "GET", "/v1/households/{kk}", {"kk": kk}, {"claims": who(w.officer)}


def _refused(w: World) -> tuple[str, str, str, dict[str, str], dict[str, Any]]:
    kk = w.fresh_assigned()
    body = {"outcome": "refused", "note": "pintu tertutup"}
    return "fieldwork", "POST", "/v1/households/{kk}/visits", {"kk": kk}, {"body": body, "claims": who(w.officer)}


def _interview(w: World) -> tuple[str, str, str, dict[str, str], dict[str, Any]]:
    kk = w.fresh_assigned()
    body = {"outcome": "interviewed", "response": submission_body(w.field.household(kk))}
    return "fieldwork", "POST", "/v1/households/{kk}/visits", {"kk": kk}, {"body": body, "claims": who(w.officer)}


def _progress(w: World) -> tuple[str, str, str, dict[str, str], dict[str, Any]]:
    claims = who(CITY_SUPERVISOR, "supervisor")
    return "fieldwork", "GET", "/v1/areas/{area_code}/progress", {"area_code": CITY}, {"claims": claims}


def _sign_in(household: Any, **extra: str) -> tuple[int, dict[str, str], Any]:
    return call("sessions", "POST", "/v1/sessions", body={"kk": household.kk, "nik": household.members[0].nik, **extra})


def _signed_in(w: World) -> tuple[str, str, str, dict[str, str], dict[str, Any]]:
    body = {"kk": w.claimed.kk, "nik": w.claimed.members[-1].nik, "password": w.password}
    return "sessions", "POST", "/v1/sessions", {}, {"body": body}


def _first_sign_in(w: World) -> tuple[str, str, str, dict[str, str], dict[str, Any]]:
    household = w.fresh_resident()
    body = {"kk": household.kk, "nik": household.members[0].nik, "new_password": "Sawah-Hijau-" + secrets.token_hex(3)}
    return "sessions", "POST", "/v1/sessions", {}, {"body": body}


def _session_headers(w: World) -> dict[str, str]:
    status, _, answer = call("sessions", "POST", "/v1/sessions", **_signed_in(w)[4])
    assert status == 201, answer
    return {"Authorization": f"Bearer {answer['token']}"}


def _session_household(w: World) -> tuple[str, str, str, dict[str, str], dict[str, Any]]:
    return "sessions", "GET", "/v1/session/household", {}, {"headers": _session_headers(w)}


def _save_draft(w: World) -> tuple[str, str, str, dict[str, str], dict[str, Any]]:
    headers = _session_headers(w)
    status, _, view = call("sessions", "GET", "/v1/session/household", headers=headers)
    assert status == 200, view
    if view.get("draft"):
        headers["If-Match"] = view["draft"]["etag"]
    body = {"members": [{"name": w.claimed.members[0].name, "education": "diploma"}]}
    return "sessions", "PUT", "/v1/session/household/draft", {}, {"body": body, "headers": headers}


def _password_reset(w: World) -> tuple[str, str, str, dict[str, str], dict[str, Any]]:
    household = w.fresh_resident()
    assert _sign_in(household, new_password="Pohon-Jati-" + secrets.token_hex(3))[0] == 201
    claims = who(CITY_SUPERVISOR, "supervisor")
    return (
        "fieldwork",
        "POST",
        "/v1/households/{kk}/password-reset",
        {"kk": household.kk},
        {"body": {}, "claims": claims},
    )


ROUTES: dict[str, Request] = {
    "submit": _submit,
    "receipt": _receipt,
    "proof": _proof,
    "status_by_kk": _status,
    "generate_worklists": _generate,
    "officer_worklist": _worklist,
    "household_for_interview": _household,
    "visit_refused": _refused,
    "interview": _interview,
    "progress": _progress,
}
ROUTES.update(
    sign_in=_signed_in,
    first_sign_in=_first_sign_in,
    session_household=_session_household,
    save_draft=_save_draft,
    password_reset=_password_reset,
)
# The call that writes, for the routes that write: a fault there comes after the reads succeeded.
WRITES = {
    "submit": "TransactWriteItems",
    "visit_refused": "TransactWriteItems",
    "interview": "TransactWriteItems",
    "generate_worklists": "BatchWriteItem",
}
RETRYING = {"submit", "visit_refused", "interview"}
WRITES.update(first_sign_in="PutItem", save_draft="PutItem", password_reset="TransactWriteItems")
EVERY_CALL_FAULTS = ["ProvisionedThroughputExceededException", "InternalServerError", "timeout", "reset"]
WRITE_FAULTS = [
    ("ProvisionedThroughputExceededException", "service_busy"),
    ("ThrottlingException", "service_busy"),
    ("RequestLimitExceeded", "service_busy"),
    ("timeout", "service_busy"),
    ("cancel:ThrottlingError", "service_busy"),
    ("cancel:ProvisionedThroughputExceeded", "service_busy"),
    ("cancel:TransactionConflict", "write_conflict"),
]


def _assert_busy(status: int, headers: dict[str, str], body: Any, code: str = "service_busy") -> None:
    assert status == 503, (status, body)
    assert isinstance(body, dict) and set(body) == {"error"}, body
    assert body["error"]["code"] == code and body["error"]["message"] and "field" in body["error"], body
    assert headers.get("Retry-After", "").isdigit() and int(headers["Retry-After"]) >= 1, headers


def _run_with_fault(w: World, route: str, *faults: Fault, code: str = "service_busy") -> None:
    function, method, resource, params, kwargs = ROUTES[route](w)
    before = w.snapshot()
    w.proxy.inject(*faults)
    status, headers, body = call(function, method, resource, params, **kwargs)
    injected = [call_ for call_ in w.proxy.calls if call_[1] is not None]
    w.proxy.clear()
    assert injected, f"{route}: the fault was never hit ({w.proxy.calls})"
    _assert_busy(status, headers, body, code)
    assert w.snapshot() == before, f"{route}: the table changed although the request failed"
    status, _, body = call(function, method, resource, params, **kwargs)
    assert 200 <= status < 300, (route, status, body)


@pytest.mark.parametrize("fault", EVERY_CALL_FAULTS)
@pytest.mark.parametrize("route", sorted(ROUTES))
def test_a_fault_on_every_call_is_a_clean_503(faulty: World, route: str, fault: str) -> None:
    _run_with_fault(faulty, route, Fault(fault))


@pytest.mark.parametrize(("fault", "code"), WRITE_FAULTS)
@pytest.mark.parametrize("route", sorted(WRITES))
def test_a_fault_on_the_write_after_the_reads_leaves_nothing_half_written(
    faulty: World, route: str, fault: str, code: str
) -> None:
    if fault.startswith("cancel:") and WRITES[route] != "TransactWriteItems":
        pytest.skip(f"{WRITES[route]} is not a transaction")
    if code == "write_conflict" and route not in RETRYING:
        code = "service_busy"  # only intake and visits re-read and retry a conflict themselves
    _run_with_fault(faulty, route, Fault(fault, WRITES[route]), code=code)


def test_a_refused_connection_is_a_clean_503(world: World) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    use_table(world.table, f"http://127.0.0.1:{closed_port}")
    store.bind(settings(), retries={"mode": "standard", "total_max_attempts": 1})
    for route in ("submit", "receipt", "officer_worklist"):
        function, method, resource, params, kwargs = ROUTES[route](world)
        _assert_busy(*call(function, method, resource, params, **kwargs))


def test_retries_absorb_a_transient_throttle_and_give_up_after_three_attempts(world: World) -> None:
    """The production retry settings (store.RETRIES): two throttled attempts and the third
    succeeds; three throttled attempts and the client gets the 503, after exactly three."""
    use_table(world.table, world.proxy.url)
    store.bind(settings())  # production settings: standard mode, 3 attempts
    try:
        world.proxy.inject(Fault("ProvisionedThroughputExceededException", "GetItem", times=2))
        status, _, body = call(*_receipt(world)[:4])
        assert status == 200, body
        assert [c for c in world.proxy.calls if c[0] == "GetItem"] == [
            ("GetItem", "ProvisionedThroughputExceededException"),
            ("GetItem", "ProvisionedThroughputExceededException"),
            ("GetItem", None),
        ]
        world.proxy.inject(Fault("ThrottlingException", "GetItem"))
        _assert_busy(*call(*_receipt(world)[:4]))
        assert len([c for c in world.proxy.calls if c[0] == "GetItem"]) == store.RETRIES["total_max_attempts"]
    finally:
        world.proxy.clear()


@pytest.mark.parametrize(
    "error",
    [
        ReadTimeoutError(endpoint_url="http://x"),
        ConnectTimeoutError(endpoint_url="http://x"),
        EndpointConnectionError(endpoint_url="http://x"),
        ConnectionClosedError(endpoint_url="http://x"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_network_faults_are_busy_whatever_wraps_them(error: Exception) -> None:
    from pynamodb.exceptions import GetError

    assert store.store_busy(error) is not None
    wrapped = GetError("Failed to get item", cause=error)
    assert store.store_busy(wrapped) is not None
    try:
        raise RuntimeError("outer") from wrapped
    except RuntimeError as outer:
        assert store.store_busy(outer) is not None
    assert store.store_busy(ValueError("a bug")) is None, "a bug stays a 500"


def test_a_write_whose_answer_is_lost_is_answered_once_its_retry_comes(faulty: World) -> None:
    """The hard case: DynamoDB committed, the answer was lost (503 to the client). The
    client's retry with the same Idempotency-Key gets the stored answer; one version."""
    w = faulty
    household = w.fresh_resident()
    body = submission_body(household)
    resource, params = "/v1/households/{kk}/responses", {"kk": household.kk}
    w.proxy.inject(Fault("lost_answer", "TransactWriteItems"))
    _assert_busy(*call("intake", "POST", resource, params, body=body, headers={"Idempotency-Key": "lost-1"}))
    w.proxy.clear()
    status, headers, answer = call("intake", "POST", resource, params, body=body, headers={"Idempotency-Key": "lost-1"})
    assert (status, answer["version"], headers.get("Idempotent-Replayed")) == (201, 1, "true")
    versions = [i for i in w.snapshot() if i["pk"]["S"] == f"HH#{household.kk}" and i["sk"]["S"].startswith("V#")]
    assert len(versions) == 1


@pytest.mark.parametrize("fault", ["timeout", "ProvisionedThroughputExceededException", "reset"])
def test_a_fault_while_counting_a_failed_guess_is_a_clean_503(faulty: World, fault: str) -> None:
    """A wrong NIK is counted (UpdateItem on LOCK#<kk>); if that write fails, the answer is
    still 503 - never a 500, and never a 401 that skipped the count."""
    w = faulty
    stranger = w.fresh_resident()
    body = {"respondent_nik": stranger.members[0].nik}
    before = w.snapshot()
    w.proxy.inject(Fault(fault, "UpdateItem"))
    _assert_busy(*call("status", "POST", "/v1/households/{kk}/status", {"kk": w.responded.kk}, body=body))
    w.proxy.clear()
    assert w.snapshot() == before
    status, _, answer = call("status", "POST", "/v1/households/{kk}/status", {"kk": w.responded.kk}, body=body)
    assert (status, answer["error"]["code"]) == (401, "invalid_credentials")
