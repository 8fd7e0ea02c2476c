"""Submission intake through the Lambda handler, on moto (single-threaded behaviour only:
everything concurrent is in tests/integration, on DynamoDB Local)."""

from __future__ import annotations

import copy
import json
from datetime import date, timedelta
from typing import Any

import pytest

from census_ops.register import RegisterHousehold
from shared import store
from shared.receipts import normalize_receipt_code
from tests.conftest import Invoke, submission_body, table_items


@pytest.fixture
def moto_table(module_moto_table: str) -> str:
    """One table for the whole module: its tests use different households."""
    return module_moto_table


def _items_by_sk(table: str, kk: str) -> dict[str, dict[str, Any]]:
    return {i["sk"]["S"]: i for i in table_items(table) if i["pk"]["S"] == f"HH#{kk}"}


def test_first_submission_stores_version_one_and_a_receipt(
    moto_table: str, households: list[RegisterHousehold], submit: Invoke
) -> None:
    household = households[0]
    status, headers, body = submit(household.kk, submission_body(household), key="first-try")
    assert status == 201
    assert body["kk"] == household.kk
    assert body["version"] == 1
    assert body["status"] == "clean"
    assert normalize_receipt_code(body["receipt_code"]) == body["receipt_code"]
    assert body["submitted_at"].endswith("Z")
    assert headers["Content-Type"] == "application/json"

    items = _items_by_sk(moto_table, household.kk)
    assert items["META"]["status"]["S"] == "clean"
    assert items["META"]["version"]["N"] == "1"
    assert "visit_area" not in items["META"], "a clean household leaves the needs_visit index"
    assert store.list_versions(household.kk)[0].members[0]["nik"] == household.members[0].nik
    receipt = next(i for i in table_items(moto_table) if i["pk"]["S"] == f"RECEIPT#{body['receipt_code']}")
    assert receipt["status"]["S"] == "clean"
    assert receipt["member_count"]["N"] == str(len(household.members))


def test_retry_with_same_idempotency_key_returns_the_same_receipt(
    moto_table: str, households: list[RegisterHousehold], submit: Invoke
) -> None:
    household = households[1]
    first = submit(household.kk, submission_body(household), key="retry-me")
    again = submit(household.kk, submission_body(household), key="retry-me")
    assert first[0] == again[0] == 201
    assert again[2] == first[2]
    assert again[1].get("Idempotent-Replayed") == "true"
    versions = [sk for sk in _items_by_sk(moto_table, household.kk) if sk.startswith("V#")]
    assert versions == ["V#0000000001"]


def test_same_key_with_another_body_is_refused(
    moto_table: str, households: list[RegisterHousehold], submit: Invoke
) -> None:
    household = households[2]
    body = submission_body(household)
    assert submit(household.kk, body, key="k-1")[0] == 201
    changed = copy.deepcopy(body)
    changed["members"][0]["education"] = "doctorate"
    status, _, answer = submit(household.kk, changed, key="k-1")
    assert status == 422
    assert answer["error"]["code"] == "idempotency_key_reused"


def test_correction_is_version_two_with_the_same_receipt_and_keeps_version_one(
    moto_table: str, households: list[RegisterHousehold], submit: Invoke
) -> None:
    household = households[3]
    body = submission_body(household)
    _, _, first = submit(household.kk, body)
    body["members"][0]["education"] = "master"
    status, _, second = submit(household.kk, body)
    assert status == 200
    assert second["version"] == 2
    assert second["receipt_code"] == first["receipt_code"]
    items = _items_by_sk(moto_table, household.kk)
    first_version, second_version = store.list_versions(household.kk)  # members as the store reads them
    assert first_version.members[0]["education"] == "senior_secondary"
    assert second_version.members[0]["education"] == "master"
    assert items["META"]["version"]["N"] == "2"


def test_any_members_nik_proves_the_household(
    moto_table: str, households: list[RegisterHousehold], submit: Invoke
) -> None:
    household = next(h for h in households[12:] if len(h.members) >= 3)
    status, _, _ = submit(household.kk, submission_body(household, respondent=2))
    assert status == 201


def test_unknown_kk_and_wrong_nik_get_the_same_answer(
    moto_table: str, households: list[RegisterHousehold], submit: Invoke
) -> None:
    household, other = households[4], households[5]
    wrong_nik = submission_body(household)
    wrong_nik["respondent_nik"] = other.members[0].nik
    unknown_kk = submission_body(household)
    unknown_kk_number = household.kk[:-4] + ("9999" if household.kk[-4:] != "9999" else "9998")
    answers = [submit(household.kk, wrong_nik), submit(unknown_kk_number, unknown_kk)]
    assert answers[0][0] == answers[1][0] == 401
    assert answers[0][2] == answers[1][2]
    assert answers[0][2]["error"]["code"] == "invalid_credentials"


def _problem(answer: dict[str, Any]) -> tuple[str, str | None]:
    return answer["error"]["code"], answer["error"]["field"]


@pytest.mark.parametrize(
    ("mutate", "code", "field"),
    [
        (lambda b: b["members"][1].update(nik=b["members"][0]["nik"]), "duplicate_nik", "members[1].nik"),
        (lambda b: b["members"][1].update(relationship="head"), "head_count", "members"),
        (
            lambda b: b["members"][1].update(birth_date=(date.today() + timedelta(days=3)).isoformat()),
            "future_date",
            "members[1].birth_date",
        ),
        (
            lambda b: b["members"][1].update(sex="female" if b["members"][1]["sex"] == "male" else "male"),
            "nik_sex_mismatch",
            "members[1].nik",
        ),
        (
            lambda b: b["members"][0].update(lives_at_kk_address=False),
            "missing_current_area_code",
            "members[0].current_area_code",
        ),
        (lambda b: b["members"][0].update(religion="jedi"), "invalid_choice", "members[0].religion"),
        (lambda b: b["members"][0].update(shoe_size=42), "unknown_field", "members[0].shoe_size"),
        (lambda b: b["members"][0].pop("marital_status"), "missing_field", "members[0].marital_status"),
        (
            lambda b: b["members"][0].update(lives_at_kk_address="yes"),
            "invalid_type",
            "members[0].lives_at_kk_address",
        ),
        (lambda b: b["members"][0].update(birth_date="05/08/1990"), "invalid_date", "members[0].birth_date"),
        (lambda b: b.update(members=[]), "member_count", "members"),
        (lambda b: b.update(members=b["members"] * 31), "member_count", "members"),
        (lambda b: b.update(respondent_nik="123"), "invalid_nik", "respondent_nik"),
        (lambda b: b["members"][0].update(name="Budi\x00"), "invalid_name", "members[0].name"),
    ],
)
def test_invalid_input_is_422_with_the_field_and_writes_nothing(
    moto_table: str, households: list[RegisterHousehold], submit: Invoke, mutate: Any, code: str, field: str
) -> None:
    household = next(h for h in households if len(h.members) >= 2)
    body = submission_body(household)
    mutate(body)
    before = table_items(moto_table)
    status, _, answer = submit(household.kk, body)
    assert status == 422, answer
    assert (code, field) in [(d["code"], d["field"]) for d in answer["error"]["details"]]
    assert answer["error"]["message"]
    assert table_items(moto_table) == before


@pytest.mark.parametrize(
    ("raw", "headers", "status", "code"),
    [
        ("{not json", None, 400, "malformed_json"),
        ("", None, 400, "malformed_json"),
        ("[" * 5000 + "]" * 5000, None, 400, "malformed_json"),
        (b'{"respondent_nik": "\xff\xfe"}', None, 400, "malformed_json"),
        ('{"respondent_nik": "1"}', {"Content-Type": "text/plain"}, 415, "unsupported_media_type"),
        ('{"a": "' + "x" * 70_000 + '"}', None, 413, "payload_too_large"),
        ("[1, 2]", None, 422, "invalid_type"),
    ],
)
def test_malformed_requests_get_json_errors(
    moto_table: str,
    households: list[RegisterHousehold],
    submit: Invoke,
    raw: str | bytes,
    headers: dict[str, str] | None,
    status: int,
    code: str,
) -> None:
    before = table_items(moto_table)
    got_status, got_headers, answer = submit(households[0].kk, raw_body=raw, headers=headers)
    assert (got_status, answer["error"]["code"]) == (status, code)
    assert got_headers["Content-Type"] == "application/json"
    assert table_items(moto_table) == before


def test_malformed_kk_and_idempotency_key(moto_table: str, households: list[RegisterHousehold], submit: Invoke) -> None:
    body = submission_body(households[0])
    status, _, answer = submit("12345", body)
    assert (status, _problem(answer)) == (422, ("invalid_kk", "kk"))
    status, _, answer = submit(households[0].kk, body, key="spaces are not allowed")
    assert (status, _problem(answer)) == (422, ("invalid_idempotency_key", "Idempotency-Key"))


def test_base64_encoded_body_is_accepted(moto_table: str, households: list[RegisterHousehold], submit: Invoke) -> None:
    household = households[6]
    status, _, _ = submit(household.kk, raw_body=json.dumps(submission_body(household)).encode())
    assert status == 201


def test_outside_the_online_phase_is_403(
    moto_table: str, households: list[RegisterHousehold], submit: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.settings import settings

    monkeypatch.setenv("ONLINE_PHASE_END", "2020-03-31T23:59:59+07:00")
    settings.cache_clear()
    household = households[7]
    before = table_items(moto_table)
    status, _, answer = submit(household.kk, submission_body(household))
    assert (status, answer["error"]["code"]) == (403, "online_phase_closed")
    assert table_items(moto_table) == before


def _swap_head_and_spouse(body: dict[str, Any]) -> None:
    for member in body["members"]:
        if member["relationship"] == "head":
            member["relationship"] = "spouse"
        elif member["relationship"] == "spouse":
            member["relationship"] = "head"


def test_review_keeps_the_household_on_the_worklist_until_a_correction_fixes_it(
    moto_table: str, households: list[RegisterHousehold], submit: Invoke
) -> None:
    household = next(h for h in households[20:] if any(m.relationship == "spouse" for m in h.members))
    body = submission_body(household)
    _swap_head_and_spouse(body)
    status, _, answer = submit(household.kk, body)
    assert (status, answer["status"]) == (201, "needs_review")
    items = _items_by_sk(moto_table, household.kk)
    assert items["META"]["visit_area"]["S"] == household.sls_code[:10]
    assert [r["S"] for r in items["V#0000000001"]["review_reasons"]["L"]] == ["head_not_register_head"]

    status, _, answer = submit(household.kk, submission_body(household))
    assert (status, answer["status"], answer["version"]) == (200, "clean", 2)
    assert "visit_area" not in _items_by_sk(moto_table, household.kk)["META"]


def test_every_template_route_reaches_its_handler(moto_table: str) -> None:
    """The template's Events and each resolver's routes describe one API: a request on
    every template route reaches a route of the handler (never the resolver's 404)."""
    from census_ops.template import api_routes, load_handler
    from tests.conftest import LambdaContext, api_event

    routes = api_routes()
    assert routes
    for route in routes:
        params = {name.strip("{}+"): "1671010101200001" for name in route.path.split("/") if name.startswith("{")}
        path = route.path
        for name, value in params.items():
            path = path.replace("{" + name + "}", value)
        event = api_event(route.method, path, resource=route.path, path_parameters=params or None, raw_body="{}")
        answer = load_handler(route)(event, LambdaContext())
        assert json.loads(answer["body"]).get("error", {}).get("code") != "route_not_found", route


def test_no_personal_data_in_any_log_line(
    moto_table: str,
    households: list[RegisterHousehold],
    submit: Invoke,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG")
    household = households[8]
    body = submission_body(household)
    submit(household.kk, body, key="log-check")  # stored
    submit(household.kk, body, key="log-check")  # replayed
    bad = copy.deepcopy(body)
    bad["members"][0]["sex"] = "female" if bad["members"][0]["sex"] == "male" else "male"
    submit(household.kk, bad)  # refused, 422
    wrong = copy.deepcopy(body)
    wrong["respondent_nik"] = households[9].members[0].nik
    submit(household.kk, wrong)  # refused, 401
    logged = capsys.readouterr().out + capsys.readouterr().err + caplog.text
    assert "response stored" in logged and "request refused" in logged
    secrets = [household.kk, household.address, households[9].members[0].nik]
    for member in household.members:
        secrets += [member.nik, member.name]
    leaked = [s for s in secrets if s in logged]
    assert not leaked, "personal data in logs"
