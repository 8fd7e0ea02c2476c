"""Resident sign-in, the pre-filled household, drafts with ETags, submitting from a session,
departed and added members, and the supervisor's password reset - through the Lambda
handlers on moto (the concurrent cases are in tests/integration/test_sessions_local.py)."""

from __future__ import annotations

import io
import json
import logging
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from census_ops.importer import import_roster
from census_ops.register import RegisterHousehold
from shared import store
from shared.errors import OnlinePhaseClosed
from shared.nik import make_nik
from shared.residents import household_view, save_draft
from shared.sessions import Session, issue_token, verify_token
from shared.settings import settings
from tests.conftest import invoke, member_body, response_headers, submission_body, table_items

PASSWORD = "kopi-tubruk-di-teras"  # a test household's password


@pytest.fixture
def moto_table(module_moto_table: str) -> str:
    """One table for the module: each test takes households of its own."""
    return module_moto_table


_next = iter(range(40))


@pytest.fixture
def household(moto_table: str, households: list[RegisterHousehold]) -> RegisterHousehold:
    """A household no other test of this module touches, with at least three members."""
    while True:
        candidate = households[next(_next)]
        if len(candidate.members) >= 3:
            return candidate


def _handler(name: str) -> Any:
    return __import__(f"functions.{name}.app", fromlist=["lambda_handler"]).lambda_handler


def call(
    function: str, method: str, resource: str, params: dict[str, str] | None = None, **kwargs: Any
) -> tuple[int, dict[str, str], Any]:
    answer = invoke(_handler(function), method, resource, params or {}, **kwargs)
    body = answer["body"]
    return answer["statusCode"], response_headers(answer), json.loads(body) if body else None


def sign_in(kk: str, nik: str, **fields: str) -> tuple[int, dict[str, str], Any]:
    return call("sessions", "POST", "/v1/sessions", body={"kk": kk, "nik": nik, **fields})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def session_token(household: RegisterHousehold, member: int = -1) -> str:
    """Sign in as a non-head member (the last one), setting the password if none is set."""
    nik = household.members[member].nik
    status, _, answer = sign_in(household.kk, nik, password=PASSWORD)
    if status == 401 and answer["error"]["code"] == "password_setup_required":
        status, _, answer = sign_in(household.kk, nik, new_password=PASSWORD)
    assert status == 201, answer
    return str(answer["token"])


def get_household(token: str) -> tuple[int, dict[str, str], Any]:
    return call("sessions", "GET", "/v1/session/household", headers=bearer(token))


def put_draft(token: str, body: Any, if_match: str | None = None) -> tuple[int, dict[str, str], Any]:
    headers = bearer(token) | ({"If-Match": if_match} if if_match else {})
    return call("sessions", "PUT", "/v1/session/household/draft", body=body, headers=headers)


def submit(kk: str, body: Any, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    return call("intake", "POST", "/v1/households/{kk}/responses", {"kk": kk}, body=body, headers=headers)


def status_of(kk: str, body: Any, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    return call("status", "POST", "/v1/households/{kk}/status", {"kk": kk}, body=body, headers=headers)


def error_code(answer: Any) -> str:
    return str(answer["error"]["code"])


# ---------------------------------------------------------------- sign-in


def test_first_sign_in_with_a_non_head_nik_sets_the_password(household: RegisterHousehold, moto_table: str) -> None:
    non_head = next(m for m in household.members if m.relationship != "head")
    status, _, answer = sign_in(household.kk, non_head.nik)
    assert (status, error_code(answer)) == (401, "password_setup_required")

    status, _, answer = sign_in(household.kk, non_head.nik, new_password=PASSWORD)
    assert status == 201, answer
    assert answer["password_set"] is True
    assert answer["token_type"] == "Bearer" and answer["kk"] == household.kk
    assert answer["expires_in"] == settings().session_ttl_seconds
    # Stored as a salted scrypt hash: the password itself is nowhere in the table.
    dump = json.dumps(table_items(moto_table))
    assert PASSWORD not in dump
    credential = store.load_household(household.kk).credential  # type: ignore[union-attr]
    assert credential is not None and credential.password_hash.startswith("scrypt$")


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("short1!", "password_too_short"),
        ("x" * 129, "password_too_long"),
        ("Indonesia123", "password_too_common"),
        ("aaaaaaaaaaaa", "password_too_common"),
    ],
)
def test_a_weak_new_password_is_refused_with_its_rule(household: RegisterHousehold, password: str, code: str) -> None:
    status, _, answer = sign_in(household.kk, household.members[0].nik, new_password=password)
    assert (status, error_code(answer)) == (422, code)
    assert {(d["code"], d["field"]) for d in answer["error"]["details"]} >= {(code, "new_password")}
    assert store.load_household(household.kk).credential is None  # type: ignore[union-attr]


def test_a_password_containing_the_kk_or_a_nik_is_refused(household: RegisterHousehold) -> None:
    for password in (f"rumah-{household.kk}", f"{household.members[1].nik}!"):
        status, _, answer = sign_in(household.kk, household.members[0].nik, new_password=password)
        assert status == 422
        assert "password_contains_identifier" in {d["code"] for d in answer["error"]["details"]}


def test_once_claimed_the_password_is_required_and_wrong_ones_count_as_guesses(household: RegisterHousehold) -> None:
    session_token(household)
    nik = household.members[0].nik
    status, _, answer = sign_in(household.kk, nik)
    assert (status, error_code(answer)) == (401, "password_required")
    for _ in range(settings().lockout_max_failures):
        status, _, answer = sign_in(household.kk, nik, password="not-the-password")
        assert (status, error_code(answer)) == (401, "invalid_credentials")
    status, headers, answer = sign_in(household.kk, nik, password=PASSWORD)
    assert (status, error_code(answer)) == (429, "too_many_attempts")
    assert int(headers["Retry-After"]) > 0


def test_signing_in_again_with_the_password_gives_a_new_session(household: RegisterHousehold) -> None:
    session_token(household)
    status, _, answer = sign_in(household.kk, household.members[0].nik, password=PASSWORD)
    assert status == 201 and answer["password_set"] is False
    # new_password never replaces an existing password
    status, _, answer = sign_in(household.kk, household.members[0].nik, new_password="another-good-phrase")
    assert (status, error_code(answer)) == (401, "password_required")


def test_an_unknown_kk_and_a_wrong_nik_answer_alike(households: list[RegisterHousehold], moto_table: str) -> None:
    household = households[39]
    wrong_nik = sign_in(household.kk, households[38].members[0].nik, new_password=PASSWORD)
    unknown_kk = sign_in("1671010101990001", household.members[0].nik, new_password=PASSWORD)
    assert wrong_nik[0] == unknown_kk[0] == 401
    assert wrong_nik[2] == unknown_kk[2]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"kk": "123", "nik": "1671010101990001", "new_password": PASSWORD}, 422, "invalid_kk"),
        ({"nik": "1671010101990001"}, 422, "missing_field"),
        ({"kk": "1671010101990001", "nik": "x", "extra": 1}, 422, "unknown_field"),
        ({"kk": 1671010101990001, "nik": "x"}, 422, "invalid_type"),
    ],
)
def test_malformed_sign_in_bodies_are_4xx(moto_table: str, body: Any, status: int, code: str) -> None:
    got, _, answer = call("sessions", "POST", "/v1/sessions", body=body)
    assert (got, error_code(answer)) == (status, code)


# ---------------------------------------------------------------- session tokens


def test_the_household_is_pre_filled_from_the_register(household: RegisterHousehold) -> None:
    token = session_token(household)
    status, headers, answer = get_household(token)
    assert status == 200
    assert headers["Cache-Control"] == "no-store"
    assert answer["kk"] == household.kk
    assert answer["respondent_nik"] == household.members[-1].nik
    assert answer["register"]["members"] == [
        {
            "nik": m.nik,
            "name": m.name,
            "sex": m.sex,
            "birth_date": m.birth_date.isoformat(),
            "relationship": m.relationship,
        }
        for m in household.members
    ]
    assert answer["draft"] is None and answer["latest"] is None
    assert "ETag" not in headers


def test_the_sign_in_answer_carries_the_household_as_the_session_would_read_it(household: RegisterHousehold) -> None:
    """One round trip less for the page: the sign-in's `household` is GET /v1/session/household's
    answer, on the first sign-in (register only, the signed-in member's NIK) and later, with a
    submitted version and a draft begun after it."""
    nik = household.members[1].nik
    assert sign_in(household.kk, nik)[0] == 401  # password_setup_required: no household in it
    status, _, first = sign_in(household.kk, nik, new_password=PASSWORD)
    assert status == 201, first
    assert first["household"] == get_household(first["token"])[2]
    assert first["household"]["respondent_nik"] == nik
    assert first["household"]["register"]["members"][0]["nik"] == household.members[0].nik
    assert first["household"]["draft"] is None and first["household"]["latest"] is None

    body = submission_body(household)
    del body["respondent_nik"]
    assert submit(household.kk, body, bearer(first["token"]))[0] == 201
    assert put_draft(first["token"], {"members": [{"religion": "hindu"}]})[0] == 200
    status, _, again = sign_in(household.kk, household.members[0].nik, password=PASSWORD)
    assert status == 201, again
    view = get_household(again["token"])[2]
    assert again["household"] == view
    assert view["respondent_nik"] == household.members[0].nik
    assert view["latest"]["version"] == 1 and view["draft"]["members"] == [{"religion": "hindu"}]


def test_bad_tokens_are_refused(household: RegisterHousehold) -> None:
    token = session_token(household)
    now = datetime.now(UTC)
    expired = issue_token(
        Session(household.kk, 0, "2026-01-01T00:00:00.000Z"), settings=settings(), now=now - timedelta(hours=2)
    ).token
    other_key = issue_token(
        Session(household.kk, 0, "2026-01-01T00:00:00.000Z"),
        settings=settings().__class__(**{**settings().__dict__, "session_signing_key": "another-key-" + "z" * 40}),
        now=now,
    ).token
    head, payload, signature = token.split(".")
    tampered = f"{head}.{payload[:-2]}AA.{signature}"
    cases = [
        ({}, "session_required"),
        ({"Authorization": token}, "session_required"),
        ({"Authorization": "Basic abc"}, "session_required"),
        (bearer("not-a-token"), "session_invalid"),
        (bearer(tampered), "session_invalid"),
        (bearer(other_key), "session_invalid"),
        (bearer(expired), "session_expired"),
    ]
    for headers, code in cases:
        status, _, answer = call("sessions", "GET", "/v1/session/household", headers=headers)
        assert (status, error_code(answer)) == (401, code), headers


def test_a_session_opens_only_its_own_household(households: list[RegisterHousehold], moto_table: str) -> None:
    mine, theirs = households[30], households[31]
    token = session_token(mine)
    body = submission_body(theirs)
    del body["respondent_nik"]
    status, _, answer = submit(theirs.kk, body, bearer(token))
    assert (status, error_code(answer)) == (403, "session_wrong_household")
    status, _, answer = status_of(theirs.kk, {}, bearer(token))
    assert (status, error_code(answer)) == (403, "session_wrong_household")
    assert store.load_household(theirs.kk).state.version == 0  # type: ignore[union-attr]


# ---------------------------------------------------------------- drafts


def test_save_and_resume_a_draft_with_etags(household: RegisterHousehold) -> None:
    token = session_token(household)
    first = {"members": [{"nik": household.members[0].nik, "name": "Dicoba Dulu"}]}
    status, headers, saved = put_draft(token, first)
    assert status == 200, saved
    assert saved["etag"] == headers["ETag"] == '"0.1"'

    # Someone else in the family has the page open with no draft: they cannot overwrite it silently.
    status, _, answer = put_draft(token, {"members": []})
    assert (status, error_code(answer)) == (428, "precondition_required")

    second = {
        "members": [member_body(household.members[0]), {"name": "Bayi Baru", "added_because": "born"}],
        "departed": [{"nik": household.members[1].nik, "reason": "moved_out"}],
    }
    status, headers, saved = put_draft(token, second, if_match='"0.1"')
    assert status == 200 and headers["ETag"] == '"0.2"'
    status, _, answer = put_draft(token, first, if_match='"0.1"')  # stale
    assert (status, error_code(answer)) == (412, "draft_changed")

    # Sign in again later (another session) and resume.
    status, headers, view = get_household(session_token(household, member=0))
    assert status == 200 and headers["ETag"] == '"0.2"'
    assert view["draft"]["etag"] == '"0.2"'
    assert view["draft"]["members"][1] == {"name": "Bayi Baru", "added_because": "born"}
    assert view["draft"]["departed"] == [{"nik": household.members[1].nik, "reason": "moved_out"}]


def test_a_draft_begun_after_a_submission_never_reuses_an_etag(household: RegisterHousehold) -> None:
    token = session_token(household)
    status, headers, _ = put_draft(token, {"members": [{"religion": "islam"}]})
    stale = headers["ETag"]  # another family member's page still holds this
    body = submission_body(household)
    del body["respondent_nik"]
    assert submit(household.kk, body, bearer(token))[0] == 201  # deletes the draft
    status, headers, _ = put_draft(token, {"members": [{"religion": "hindu"}]})
    assert status == 200 and headers["ETag"] != stale
    status, _, answer = put_draft(token, {"members": []}, if_match=stale)
    assert (status, error_code(answer)) == (412, "draft_changed")
    assert get_household(token)[2]["draft"]["members"] == [{"religion": "hindu"}]


def test_a_draft_is_checked_field_by_field_but_not_for_completeness(household: RegisterHousehold) -> None:
    token = session_token(household)
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    bad = {
        "members": [
            {"birth_date": tomorrow},
            {"name": "Tab\tName"},
            {"nik": "123"},
            {"lives_at_kk_address": True, "current_area_code": "1671"},
            {"relationship": "cousin"},
        ]
    }
    status, _, answer = put_draft(token, bad)
    assert status == 422
    fields = {d["field"] for d in answer["error"]["details"]}
    assert "members[4].relationship" in fields  # the shape is checked first
    status, _, answer = put_draft(token, {"members": bad["members"][:4]})
    assert status == 422
    assert {(d["code"], d["field"]) for d in answer["error"]["details"]} == {
        ("future_date", "members[0].birth_date"),
        ("invalid_name", "members[1].name"),
        ("invalid_nik", "members[2].nik"),
        ("unexpected_current_area_code", "members[3].current_area_code"),
    }
    # Incomplete is fine: one field of one member, and no members at all.
    assert put_draft(token, {"members": [{"religion": "islam"}]})[0] == 200
    view = get_household(token)[2]
    assert view["draft"]["members"] == [{"religion": "islam"}]


# ---------------------------------------------------------------- submitting from a session


def test_submit_from_a_session_without_respondent_nik_and_the_draft_goes(
    household: RegisterHousehold, moto_table: str
) -> None:
    token = session_token(household)
    assert put_draft(token, {"members": [{"religion": "islam"}]})[0] == 200
    body = submission_body(household)
    del body["respondent_nik"]
    status, _, answer = submit(household.kk, body, bearer(token) | {"Idempotency-Key": uuid.uuid4().hex})
    assert status == 201, answer
    assert answer["status"] == "clean"
    view = get_household(token)[2]
    assert view["draft"] is None
    assert view["latest"] == {
        "receipt_code": answer["receipt_code"],
        "version": 1,
        "status": "clean",
        "submitted_at": answer["submitted_at"],
        "member_count": len(household.members),
        "members": [{**m, "added_because": None, "from_register": True} for m in body["members"]],
        "departed": [],
    }
    stored = store.list_versions(household.kk)[-1]
    assert stored.respondent_nik == household.members[-1].nik
    assert [m["from_register"] for m in stored.members] == [True] * len(household.members)
    assert not store.load_household(household.kk).draft  # type: ignore[union-attr]


def test_once_claimed_kk_and_nik_alone_no_longer_read_or_change_the_household(household: RegisterHousehold) -> None:
    session_token(household)
    body = submission_body(household)
    status, _, answer = submit(household.kk, body)
    assert (status, error_code(answer)) == (401, "password_required")
    status, _, answer = status_of(household.kk, {"respondent_nik": household.members[0].nik})
    assert (status, error_code(answer)) == (401, "password_required")
    status, _, answer = status_of(household.kk, {"respondent_nik": household.members[0].nik, "password": "wrong-one"})
    assert (status, error_code(answer)) == (401, "invalid_credentials")
    assert store.load_household(household.kk).state.version == 0  # type: ignore[union-attr]
    # With the password both work; the password is not part of the stored response.
    status, _, answer = submit(household.kk, {**body, "password": PASSWORD})
    assert status == 201, answer
    status, _, answer = status_of(household.kk, {"respondent_nik": household.members[0].nik, "password": PASSWORD})
    assert status == 200 and answer["version"] == 1
    assert PASSWORD not in json.dumps(store.list_versions(household.kk)[-1].attribute_values, default=str)


def test_register_members_left_out_need_a_reason(household: RegisterHousehold) -> None:
    token = session_token(household)
    left_out = household.members[1]
    body = submission_body(household)
    body["members"] = [m for m in body["members"] if m["nik"] != left_out.nik]
    status, _, answer = submit(household.kk, body, bearer(token))
    assert (status, answer["status"]) == (201, "needs_review")
    assert store.list_versions(household.kk)[-1].review_reasons == ["member_missing_without_reason"]

    body["departed"] = [{"nik": left_out.nik, "reason": "died"}]
    status, _, answer = submit(household.kk, body, bearer(token))
    assert (status, answer["status"]) == (200, "clean"), answer
    stored = store.list_versions(household.kk)[-1]
    assert stored.departed == [{"nik": left_out.nik, "reason": "died"}]


def test_members_not_on_the_register_carry_added_because(household: RegisterHousehold) -> None:
    token = session_token(household)
    born = date.today() - timedelta(days=40)
    baby_nik = make_nik(household.kk[:6], "female", born, 9001)
    baby = member_body(
        household.members[0],
        nik=baby_nik,
        name="Putri Kecil",
        relationship="child",
        sex="female",
        birth_date=born.isoformat(),
        marital_status="never_married",
        education="none",
    )
    head_birth = next(m for m in household.members if m.relationship == "head").birth_date
    if born.year - head_birth.year < 12:  # pragma: no cover - the demo register's heads are adults
        pytest.skip("head too young for a child")
    body = submission_body(household)
    body["members"].append(baby)
    status, _, answer = submit(household.kk, body, bearer(token))
    assert (status, answer["status"]) == (201, "needs_review")
    assert "member_added_without_reason" in store.list_versions(household.kk)[-1].review_reasons

    body["members"][-1] = {**baby, "added_because": "born"}
    status, _, answer = submit(household.kk, body, bearer(token))
    assert (status, answer["status"]) == (200, "clean"), answer
    stored = store.list_versions(household.kk)[-1]
    assert [m["from_register"] for m in stored.members] == [True] * len(household.members) + [False]
    assert stored.members[-1]["added_because"] == "born"


def test_departures_and_additions_that_contradict_the_register_are_422(
    household: RegisterHousehold, households: list[RegisterHousehold]
) -> None:
    token = session_token(household)
    stranger = households[0].members[0].nik if households[0].kk != household.kk else households[1].members[0].nik
    body = submission_body(household)
    cases = [
        ({**body, "departed": [{"nik": stranger, "reason": "died"}]}, "departed_not_on_register", "departed[0].nik"),
        (
            {**body, "departed": [{"nik": household.members[0].nik, "reason": "died"}]},
            "departed_and_present",
            "departed[0].nik",
        ),
        (
            {**body, "members": [{**body["members"][0], "added_because": "born"}, *body["members"][1:]]},
            "added_because_for_register_member",
            "members[0].added_because",
        ),
        ({**body, "departed": [{"nik": household.members[0].nik, "reason": "eloped"}]}, "invalid_choice", None),
    ]
    for case, code, field in cases:
        status, _, answer = submit(household.kk, case, bearer(token))
        assert status == 422, (code, answer)
        details = {(d["code"], d["field"]) for d in answer["error"]["details"]}
        assert any(c == code and (field is None or f == field) for c, f in details), details
    assert store.load_household(household.kk).state.version == 0  # type: ignore[union-attr]


# ---------------------------------------------------------------- password reset


def _roster(tmp_path: Path, household: RegisterHousehold) -> None:
    district = household.sls_code[:7]
    other = "3171010" if not district.startswith("3171") else "1671010"
    path = tmp_path / "roster.csv"
    path.write_text(
        "officer_id,name,role,area_codes\n"
        f"SPV-HERE,Supervisor Here,supervisor,{district}\n"
        f"SPV-ELSEWHERE,Supervisor Elsewhere,supervisor,{other}\n"
        f"OFC-HERE,Officer Here,officer,{household.sls_code}\n"
    )
    assert not import_roster(path).errors


def who(officer_id: str, role: str) -> dict[str, str]:
    return {"cognito:username": officer_id, "cognito:groups": role}


def reset(kk: str, officer_id: str, role: str) -> tuple[int, dict[str, str], Any]:
    return call(
        "fieldwork",
        "POST",
        "/v1/households/{kk}/password-reset",
        {"kk": kk},
        body={},
        claims=who(officer_id, role),
    )


def test_a_supervisor_of_the_area_resets_a_forgotten_password(
    household: RegisterHousehold, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _roster(tmp_path, household)
    status, _, answer = reset(household.kk, "SPV-HERE", "supervisor")
    assert (status, error_code(answer)) == (409, "password_not_set")
    before_reset = session_token(household)  # e.g. someone holding a copy of the family card
    for _ in range(3):
        sign_in(household.kk, household.members[0].nik, password="forgotten-it")

    assert reset(household.kk, "SPV-ELSEWHERE", "supervisor")[:1] == (403,)
    status, _, answer = reset(household.kk, "OFC-HERE", "officer")
    assert (status, error_code(answer)) == (403, "supervisor_only")
    status, _, answer = reset(household.kk, "SPV-HERE", "supervisor")
    assert status == 200, answer
    assert answer["kk"] == household.kk and answer["reset_by"] == "SPV-HERE"
    records = store.list_password_resets(household.kk)
    assert [(r.reset_by, r.reset_at) for r in records] == [("SPV-HERE", answer["reset_at"])]
    assert store.get_guesses(household.kk).failures == 0  # type: ignore[union-attr]
    code = answer["reset_code"]
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", code), code
    assert answer["expires_at"] > answer["reset_at"]
    # KK + NIK alone no longer claim it (the old accepted risk): the family needs the code,
    # on every route that takes KK + NIK.
    nik = household.members[0].nik
    for status, _, answer in (
        sign_in(household.kk, nik, password=PASSWORD),
        sign_in(household.kk, nik, new_password="a-brand-new-phrase"),
        sign_in(household.kk, household.members[-1].nik, new_password="a-brand-new-phrase"),
        status_of(household.kk, {"respondent_nik": nik}),
    ):
        assert (status, error_code(answer)) == (401, "reset_code_required"), answer
    # The code is stored only as a hash; a wrong code is a counted failure.
    assert code.replace("-", "") not in json.dumps(table_items_of(household.kk), default=str)
    wrong = "0000-0000" if code != "0000-0000" else "1111-1111"
    status, _, answer = sign_in(household.kk, nik, new_password="a-brand-new-phrase", reset_code=wrong)
    assert (status, error_code(answer)) == (401, "invalid_credentials")
    assert store.get_guesses(household.kk).failures == 1  # type: ignore[union-attr]
    # With the code (typed in lower case, without the hyphen) the family sets a new password, once.
    typed = code.replace("-", "").lower()
    assert sign_in(household.kk, nik, new_password="a-brand-new-phrase", reset_code=typed)[0] == 201
    status, _, answer = sign_in(household.kk, nik, new_password="another-phrase-9", reset_code=typed)
    assert (status, error_code(answer)) == (401, "password_required")
    assert sign_in(household.kk, nik, password="a-brand-new-phrase")[0] == 201
    # A session from before the reset no longer opens the household, on any session route.
    body = submission_body(household)
    del body["respondent_nik"]
    for status, _, answer in (
        get_household(before_reset),
        put_draft(before_reset, {"members": []}),
        submit(household.kk, body, bearer(before_reset)),
        status_of(household.kk, {}, bearer(before_reset)),
    ):
        assert (status, error_code(answer)) == (401, "session_invalid"), answer
    assert store.load_household(household.kk).state.version == 0  # type: ignore[union-attr]
    # Reset records stay out of the Query that proves a household (it reads META..REGISTER).
    proving = store.CensusItem.query(
        store.household_pk(household.kk), store.CensusItem.sk.between(store.META_SK, store.REGISTER_SK)
    )
    assert [i.sk for i in proving] == ["META", "META#CREDENTIAL", "REGISTER"]


def table_items_of(kk: str) -> list[dict[str, object]]:
    return [i.attribute_values for i in store.CensusItem.query(store.household_pk(kk))]


def test_a_reset_code_expires_and_guessing_it_is_locked_out(household: RegisterHousehold, tmp_path: Path) -> None:
    _roster(tmp_path, household)
    assert sign_in(household.kk, household.members[0].nik, new_password=PASSWORD)[0] == 201
    past = datetime.now(UTC) - timedelta(hours=25)
    from shared.fieldwork import reset_household_password
    from shared.officers import identify

    answer = reset_household_password(identify(who("SPV-HERE", "supervisor")), household.kk, now=past)
    nik = household.members[0].nik
    status, _, body = sign_in(household.kk, nik, new_password="a-brand-new-phrase", reset_code=answer["reset_code"])
    assert (status, error_code(body)) == (401, "reset_code_expired")
    status, _, answer = reset(household.kk, "SPV-HERE", "supervisor")  # a new code replaces it
    assert status == 200
    wrong = "ZZZZ-ZZZZ" if answer["reset_code"] != "ZZZZ-ZZZZ" else "YYYY-YYYY"
    codes = [error_code(sign_in(household.kk, nik, new_password="a-brand-new-phrase", reset_code=wrong)[2])
             for _ in range(6)]  # fmt: skip
    assert codes == ["invalid_credentials"] * 5 + ["too_many_attempts"]
    status, _, body = sign_in(household.kk, nik, new_password="a-brand-new-phrase", reset_code=answer["reset_code"])
    assert (status, error_code(body)) == (429, "too_many_attempts"), "the right code too, while locked"


def test_no_password_or_nik_reaches_the_logs(household: RegisterHousehold) -> None:
    from shared.observability import logger

    stream = io.StringIO()
    capture = logging.StreamHandler(stream)
    capture.setFormatter(logger.registered_formatter)
    logger.addHandler(capture)
    try:
        token = session_token(household)
        put_draft(token, {"members": [member_body(household.members[0])]})
        get_household(token)
        sign_in(household.kk, household.members[0].nik, password="a-wrong-password")
    finally:
        logger.removeHandler(capture)
    logged = stream.getvalue()
    assert "signed in" in logged and "request refused" in logged  # the capture works
    for secret in (PASSWORD, "a-wrong-password", token, *(m.nik for m in household.members)):
        assert secret not in logged


def test_drafts_expire_when_the_online_phase_closes(household: RegisterHousehold) -> None:
    token = session_token(household)
    now = datetime.now(UTC)
    closing = now + timedelta(days=3)
    config = settings().__class__(**{**settings().__dict__, "online_phase_end": closing})
    session = verify_token(token, settings=config, now=now)
    saved = save_draft(session, b'{"members": [{"religion": "islam"}]}', None, settings=config, now=now)
    assert saved.expires_at == closing.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert int(store.load_household(household.kk).draft.expires_at) == int(closing.timestamp())  # type: ignore[union-attr]
    assert household_view(session, settings=config, now=now)[0]["draft"] is not None
    later = closing + timedelta(seconds=1)
    assert household_view(session, settings=config, now=later)[0]["draft"] is None  # before TTL deletes it
    with pytest.raises(OnlinePhaseClosed):
        save_draft(session, b'{"members": []}', '"0.1"', settings=config, now=later)


def test_session_tokens_are_standard_hs256_jwts(household: RegisterHousehold) -> None:
    """Made without PyJWT (import cost), so PyJWT checks that they are what they claim to be."""
    import jwt

    token = session_token(household)
    claims = jwt.decode(token, settings().session_signing_key, algorithms=["HS256"], audience="census-resident")
    assert claims["sub"] == household.kk and claims["mem"] == len(household.members) - 1
    assert claims["iss"] == "census" and claims["exp"] - claims["iat"] == settings().session_ttl_seconds
    forged = jwt.encode({**claims, "sub": "1671010101990001"}, "some-other-key-" + "y" * 40, algorithm="HS256")
    none_alg = jwt.encode({**claims}, None, algorithm="none")
    for bad in (forged, none_alg):
        status, _, answer = get_household(bad)
        assert (status, error_code(answer)) == (401, "session_invalid")


def test_status_and_intake_from_a_session_and_a_respondent_who_is_not_the_signed_in_member(
    household: RegisterHousehold,
) -> None:
    token = session_token(household)
    status, _, answer = status_of(household.kk, {}, bearer(token))
    assert (status, answer["status"], answer["receipt_code"]) == (200, "pending", None)
    body = submission_body(household, respondent=0)  # the head, but the session is the last member's
    status, _, answer = submit(household.kk, body, bearer(token))
    assert (status, error_code(answer), answer["error"]["field"]) == (422, "respondent_mismatch", "respondent_nik")
    status, _, answer = submit(household.kk, submission_body(household), bearer(token))  # the same member: fine
    assert status == 201, answer


def test_unusable_password_characters_are_a_4xx_not_a_500(household: RegisterHousehold) -> None:
    nik = household.members[0].nik
    raw = f'{{"kk": "{household.kk}", "nik": "{nik}", "new_password": "abc\\ud800defghij"}}'
    status, _, answer = call("sessions", "POST", "/v1/sessions", raw_body=raw)
    # The JSON decoder (msgspec, as pydantic before it) refuses a lone surrogate: the body is not valid JSON.
    assert (status, error_code(answer)) == (400, "malformed_json")
    assert store.load_household(household.kk).credential is None  # type: ignore[union-attr]


def test_without_a_signing_key_sessions_answer_503(household: RegisterHousehold, monkeypatch: Any) -> None:
    monkeypatch.delenv("SESSION_SIGNING_KEY")
    settings.cache_clear()
    status, _, answer = sign_in(household.kk, household.members[0].nik, new_password=PASSWORD)
    assert (status, error_code(answer)) == (503, "sessions_unavailable")
    assert store.load_household(household.kk).credential is None  # type: ignore[union-attr]


def test_once_claimed_a_wrong_nik_and_a_wrong_password_answer_alike(
    household: RegisterHousehold, households: list[RegisterHousehold]
) -> None:
    """SPEC: the answer never says which of KK/NIK/password was wrong."""
    session_token(household)
    stranger = next(h for h in households if h.kk != household.kk).members[0].nik
    right = household.members[0].nik
    assert sign_in(household.kk, stranger)[2] == sign_in(household.kk, right)[2]  # both password_required
    wrong_nik = sign_in(household.kk, stranger, password=PASSWORD)
    wrong_password = sign_in(household.kk, right, password="not-the-password")
    assert (wrong_nik[0], wrong_nik[2]) == (wrong_password[0], wrong_password[2])
    assert error_code(wrong_nik[2]) == "invalid_credentials"
    # The stranger's NIK without a password was counted as a failure; the right one was not.
    assert store.get_guesses(household.kk).failures == 3  # type: ignore[union-attr]


def test_in_aws_the_key_is_fetched_once_from_secrets_manager_and_cached(
    household: RegisterHousehold, monkeypatch: Any
) -> None:
    """The functions get the secret's ARN, not the key: one GetSecretValue per container,
    then every token is signed and checked with the cached key. The ARN wins over the
    environment variable, which is for census serve and the tests only."""
    import boto3
    import jwt

    from shared import settings as settings_module

    key = "secrets-manager-session-key-" + "k" * 40
    arn = boto3.client("secretsmanager").create_secret(Name=f"census-{uuid.uuid4()}", SecretString=key)["ARN"]
    calls: list[str] = []
    make_client = settings_module._secrets_manager

    def counting_client(region: str) -> Any:
        client = make_client(region)
        client.meta.events.register(
            "before-call.secrets-manager.GetSecretValue", lambda **_: calls.append("GetSecretValue")
        )
        return client

    monkeypatch.setattr(settings_module, "_secrets_manager", counting_client)
    monkeypatch.setenv("SESSION_SIGNING_SECRET_ARN", arn)
    settings.cache_clear()
    settings_module.secret_string.cache_clear()
    try:
        token = session_token(household)
        for _ in range(3):
            assert get_household(token)[0] == 200
        assert calls == ["GetSecretValue"]
        # Signed with the secret's value, not with SESSION_SIGNING_KEY (still set here).
        claims = jwt.decode(token, key, algorithms=["HS256"], audience="census-resident")
        assert claims["sub"] == household.kk
    finally:
        settings_module.secret_string.cache_clear()


def test_when_secrets_manager_fails_sign_in_answers_503_and_tries_again_later(
    household: RegisterHousehold, monkeypatch: Any
) -> None:
    from shared import settings as settings_module

    monkeypatch.setenv("SESSION_SIGNING_SECRET_ARN", "arn:aws:secretsmanager:ap-southeast-3:123456789012:secret:gone")
    settings.cache_clear()
    settings_module.secret_string.cache_clear()
    status, _, answer = sign_in(household.kk, household.members[0].nik, new_password=PASSWORD)
    assert (status, error_code(answer)) == (503, "sessions_unavailable")
    assert settings_module.secret_string.cache_info().currsize == 0  # not cached: the next cold path retries


def test_a_guess_whose_window_another_request_restarts_meanwhile_counts_in_the_new_window(moto_table: str) -> None:
    """The moment a window ends: this guess's update finds the old window over, and before it
    reads the counter another guess starts the next window. This one counts in that window
    (it is not full), rather than being refused as if it were: a burst at the rollover gets
    exactly the limit through (tests/integration/test_sessions_local.py races it for real)."""
    import boto3

    from shared.store.schema import LOCK_SK, GuessCounter, lock_pk

    limit, window, now, kk = 5, 900, 2_000_000, "1671010101990002"
    for _ in range(limit):
        assert store.record_failed_guess(kk, now - window, window, below=limit) is not None
    key = {"pk": {"S": lock_pk(kk)}, "sk": {"S": LOCK_SK}}
    other = boto3.client("dynamodb")
    restarts: list[int] = []

    def another_guess_restarts_the_window(params: dict[str, Any], **_: Any) -> None:
        if params.get("Key") == key and not restarts:
            restarts.append(1)
            other.update_item(
                TableName=moto_table,
                Key=key,
                UpdateExpression="SET failures = :one, expires_at = :ends",
                ExpressionAttributeValues={":one": {"N": "1"}, ":ends": {"N": str(now + window)}},
            )

    events = GuessCounter._get_connection().connection.client.meta.events
    events.register("provide-client-params.dynamodb.GetItem", another_guess_restarts_the_window)
    try:
        guesses = store.record_failed_guess(kk, now, window, below=limit)
    finally:
        events.unregister("provide-client-params.dynamodb.GetItem", another_guess_restarts_the_window)
    assert restarts == [1]
    assert guesses is not None and (guesses.failures, guesses.window_ends) == (2, now + window)
    assert store.get_guesses(kk) == guesses
