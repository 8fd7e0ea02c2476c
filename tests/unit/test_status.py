"""Status lookup, proof of filling and guessing protection, through the Lambda handlers on moto."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from census_ops.register import RegisterHousehold
from shared.receipts import format_receipt_code, new_receipt_code
from shared.settings import settings
from shared.status_lookup import household_status
from tests.conftest import Invoke, drain_stream, invoke, response_headers, submission_body


@pytest.fixture
def moto_table(module_moto_table: str) -> str:
    """One table for the whole module: its tests use different households."""
    return module_moto_table


def _status_handler() -> Any:
    from functions.status.app import lambda_handler

    return lambda_handler


def by_receipt(code: str) -> tuple[int, dict[str, Any]]:
    drain_stream()  # a receipt's later changes come from the table's stream (docs/decisions/0019)
    answer = invoke(_status_handler(), "GET", "/v1/receipts/{receipt_code}", {"receipt_code": code})
    return answer["statusCode"], json.loads(answer["body"])


def by_household(kk: str, body: Any = None, raw_body: str | None = None) -> tuple[int, dict[str, str], Any]:
    answer = invoke(_status_handler(), "POST", "/v1/households/{kk}/status", {"kk": kk}, body=body, raw_body=raw_body)
    return answer["statusCode"], response_headers(answer), json.loads(answer["body"])


def _personal_values(household: RegisterHousehold) -> list[str]:
    values = [household.kk, household.address]
    for m in household.members:
        values += [m.nik, m.name]
    return values


def test_lookup_by_receipt_answers_progress_and_no_personal_data(
    moto_table: str, households: list[RegisterHousehold], submit: Invoke
) -> None:
    household = households[0]
    _, _, stored = submit(household.kk, submission_body(household))
    status, answer = by_receipt(stored["receipt_code"])
    assert status == 200
    assert answer == {
        "receipt_code": stored["receipt_code"],
        "status": "clean",
        "version": 1,
        "channel": "online",
        "first_submitted_at": stored["submitted_at"],
        "last_submitted_at": stored["submitted_at"],
        "member_count": len(household.members),
    }
    text = json.dumps(answer)
    assert not [v for v in _personal_values(household) if v in text]


def test_lookup_follows_corrections_and_accepts_the_printed_form(
    moto_table: str, households: list[RegisterHousehold], submit: Invoke
) -> None:
    household = households[1]
    body = submission_body(household)
    _, _, first = submit(household.kk, body)
    body["members"][0]["education"] = "master"
    _, _, second = submit(household.kk, body)
    status, answer = by_receipt(format_receipt_code(first["receipt_code"]).lower())
    assert status == 200
    assert (answer["version"], answer["first_submitted_at"], answer["last_submitted_at"]) == (
        2,
        first["submitted_at"],
        second["submitted_at"],
    )


def test_malformed_receipt_is_400_and_unknown_is_404(moto_table: str) -> None:
    assert by_receipt("NOT-A-CODE") == (
        400,
        {
            "error": {
                "code": "invalid_receipt_code",
                "message": by_receipt("x")[1]["error"]["message"],
                "field": "receipt_code",
            }
        },
    )
    status, answer = by_receipt(new_receipt_code())
    assert (status, answer["error"]["code"]) == (404, "receipt_not_found")


def test_lookup_by_kk_and_nik_gives_the_receipt(
    moto_table: str, households: list[RegisterHousehold], submit: Invoke
) -> None:
    household = next(h for h in households[10:] if len(h.members) >= 2)
    status, _, before = by_household(household.kk, {"respondent_nik": household.members[1].nik})
    assert (status, before["status"], before["receipt_code"], before["version"]) == (200, "pending", None, 0)
    _, _, stored = submit(household.kk, submission_body(household))
    status, _, after = by_household(household.kk, {"respondent_nik": household.members[1].nik})
    assert status == 200
    assert after == {**by_receipt(stored["receipt_code"])[1], "receipt_code": stored["receipt_code"]}


def test_unknown_kk_and_foreign_nik_get_the_same_401(moto_table: str, households: list[RegisterHousehold]) -> None:
    household, other = households[2], households[3]
    unknown_kk = household.kk[:-4] + "9999"
    a = by_household(household.kk, {"respondent_nik": other.members[0].nik})
    b = by_household(unknown_kk, {"respondent_nik": household.members[0].nik})
    assert a[0] == b[0] == 401
    assert a[2] == b[2]


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        ("{", 400, "malformed_json"),
        ("{}", 422, "missing_field"),
        ('{"respondent_nik": 3171}', 422, "invalid_type"),
        ('{"respondent_nik": "1", "extra": 1}', 422, "unknown_field"),
    ],
)
def test_bad_status_requests(
    moto_table: str, households: list[RegisterHousehold], raw: str, status: int, code: str
) -> None:
    got_status, _, answer = by_household(households[0].kk, raw_body=raw)
    assert (got_status, answer["error"]["code"]) == (status, code)


def test_five_failures_lock_the_kk_on_every_route_until_the_window_ends(
    moto_table: str, households: list[RegisterHousehold], submit: Invoke
) -> None:
    household, stranger = households[4], households[5]
    wrong = {"respondent_nik": stranger.members[0].nik}
    right = {"respondent_nik": household.members[0].nik}
    for _ in range(3):
        assert by_household(household.kk, wrong)[0] == 401
    wrong_submission = submission_body(household)
    wrong_submission["respondent_nik"] = stranger.members[0].nik
    for _ in range(2):  # intake failures count too: one protection for every KK + NIK route
        assert submit(household.kk, wrong_submission)[0] == 401

    status, headers, answer = by_household(household.kk, right)
    assert (status, answer["error"]["code"]) == (429, "too_many_attempts")
    assert 0 < int(headers["Retry-After"]) <= 900
    status, headers, answer = submit(household.kk, submission_body(household))
    assert (status, answer["error"]["code"]) == (429, "too_many_attempts")

    later = datetime.now(UTC) + timedelta(minutes=16)
    opened = household_status(household.kk, json.dumps(right), settings=settings(), now=later)
    assert opened["status"] == "pending"


def test_a_success_before_the_limit_resets_the_count(moto_table: str, households: list[RegisterHousehold]) -> None:
    household, stranger = households[6], households[7]
    wrong = {"respondent_nik": stranger.members[0].nik}
    for _ in range(4):
        assert by_household(household.kk, wrong)[0] == 401
    assert by_household(household.kk, {"respondent_nik": household.members[0].nik})[0] == 200
    for _ in range(4):
        assert by_household(household.kk, wrong)[0] == 401
    assert by_household(household.kk, {"respondent_nik": household.members[0].nik})[0] == 200


def test_proof_is_a_pdf_with_the_masked_kk(
    moto_table: str, households: list[RegisterHousehold], submit: Invoke
) -> None:
    household = households[8]
    _, _, stored = submit(household.kk, submission_body(household))
    answer = invoke(
        _status_handler(), "GET", "/v1/receipts/{receipt_code}/proof", {"receipt_code": stored["receipt_code"]}
    )
    assert answer["statusCode"] == 200
    assert answer["isBase64Encoded"] is True
    assert response_headers(answer)["Content-Type"] == "application/pdf"
    pdf = base64.b64decode(answer["body"])
    assert pdf.startswith(b"%PDF-")
    assert household.kk.encode() not in pdf

    missing = invoke(
        _status_handler(), "GET", "/v1/receipts/{receipt_code}/proof", {"receipt_code": new_receipt_code()}
    )
    assert (missing["statusCode"], json.loads(missing["body"])["error"]["code"]) == (404, "receipt_not_found")


def test_answers_carry_cors_for_the_configured_origin(
    moto_table: str, households: list[RegisterHousehold], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CORS_ALLOW_ORIGIN", "https://sensus.example.id")
    settings.cache_clear()
    answer = invoke(_status_handler(), "GET", "/v1/receipts/{receipt_code}", {"receipt_code": "bad"})
    assert response_headers(answer)["Access-Control-Allow-Origin"] == "https://sensus.example.id"
    monkeypatch.delenv("CORS_ALLOW_ORIGIN")
    settings.cache_clear()
    answer = invoke(_status_handler(), "GET", "/v1/receipts/{receipt_code}", {"receipt_code": "bad"})
    assert "Access-Control-Allow-Origin" not in response_headers(answer)
