"""Domain rules of the household response and the status machine, without AWS."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest

from shared.errors import MalformedRequest, ValidationFailed
from shared.nik import make_nik
from shared.responses import check_rules, parse_submission, review_reasons
from shared.status import InvalidTransition, Status, check_transition
from shared.validation import field_path

NOW = datetime(2027, 3, 1, 3, 0, tzinfo=UTC)
REGION = "167101"


def person(relationship: str, sex: str, born: date, serial: int, **extra: Any) -> dict[str, Any]:
    return {
        "nik": make_nik(REGION, sex, born, serial),
        "name": f"Person {serial}",
        "relationship": relationship,
        "sex": sex,
        "birth_date": born.isoformat(),
        "marital_status": "married",
        "religion": "islam",
        "education": "primary",
        "citizenship": "WNI",
        "lives_at_kk_address": True,
        **extra,
    }


def body(*members: dict[str, Any]) -> str:
    return json.dumps({"respondent_nik": members[0]["nik"], "members": list(members)})


HEAD = person("head", "male", date(1980, 5, 1), 1)


def reasons_for(*members: dict[str, Any]) -> list[str]:
    submission = parse_submission(body(*members))
    check_rules(submission, NOW)
    return review_reasons(submission, HEAD["nik"], NOW)


def test_a_plausible_household_has_no_review_reasons() -> None:
    assert (
        reasons_for(
            HEAD,
            person("spouse", "female", date(1983, 2, 2), 2),
            person("child", "female", date(2010, 1, 1), 3),
            person("parent", "female", date(1955, 1, 1), 4),
        )
        == []
    )


@pytest.mark.parametrize(
    ("member", "reason"),
    [
        (person("child", "male", date(1975, 1, 1), 5), "child_age_implausible"),
        (person("child", "male", date(1985, 1, 1), 5), "child_age_implausible"),  # 4 years younger
        (person("grandchild", "male", date(1995, 1, 1), 5), "grandchild_age_implausible"),
        (person("parent", "male", date(1985, 1, 1), 5), "parent_age_implausible"),
        (person("spouse", "female", date(2014, 1, 1), 5), "spouse_under_15"),
    ],
)
def test_implausible_ages_mark_for_review_not_reject(member: dict[str, Any], reason: str) -> None:
    assert reasons_for(HEAD, member) == [reason]


def test_a_head_other_than_the_register_head_marks_for_review() -> None:
    other_head = person("head", "female", date(1982, 1, 1), 9)
    submission = parse_submission(body(other_head))
    assert review_reasons(submission, HEAD["nik"], NOW) == ["head_not_register_head"]


def test_a_birth_today_in_papua_is_not_in_the_future() -> None:
    # 20:00 UTC on 28 Feb is already 1 March in Jayapura (UTC+9).
    late = datetime(2027, 2, 28, 20, 0, tzinfo=UTC)
    baby = person("child", "female", date(2027, 3, 1), 7)
    check_rules(parse_submission(body(HEAD, baby)), late)
    with pytest.raises(ValidationFailed) as raised:
        check_rules(parse_submission(body(HEAD, person("child", "female", date(2027, 3, 2), 7))), late)
    assert raised.value.code == "future_date"


def test_every_problem_is_reported_with_its_path() -> None:
    bad = person("child", "male", date(2001, 1, 1), 3)
    bad["nik"] = HEAD["nik"]
    second_head = person("head", "female", date(1990, 1, 1), 4, lives_at_kk_address=False)
    with pytest.raises(ValidationFailed) as raised:
        check_rules(parse_submission(body(HEAD, bad, second_head)), NOW)
    found = {(p.code, p.field) for p in raised.value.problems}
    assert ("duplicate_nik", "members[1].nik") in found
    assert ("nik_birth_date_mismatch", "members[1].nik") in found
    assert ("missing_current_area_code", "members[2].current_area_code") in found
    assert ("head_count", "members") in found


def test_current_area_code_must_be_a_real_area() -> None:
    away = person("spouse", "female", date(1983, 2, 2), 2, lives_at_kk_address=False, current_area_code="9")
    with pytest.raises(ValidationFailed) as raised:
        check_rules(parse_submission(body(HEAD, away)), NOW)
    assert (raised.value.code, raised.value.field) == ("invalid_area_code", "members[1].current_area_code")
    fine = person("spouse", "female", date(1983, 2, 2), 2, lives_at_kk_address=False, current_area_code="3171")
    check_rules(parse_submission(body(HEAD, fine)), NOW)


def test_strict_json_types() -> None:
    raw = json.loads(body(HEAD))
    raw["members"][0]["lives_at_kk_address"] = 1
    with pytest.raises(ValidationFailed) as raised:
        parse_submission(json.dumps(raw))
    assert raised.value.field == "members[0].lives_at_kk_address"
    with pytest.raises(MalformedRequest):
        parse_submission(b"\x00\x01")


def test_field_path_format() -> None:
    assert field_path(("members", 2, "nik")) == "members[2].nik"
    assert field_path(("respondent_nik",)) == "respondent_nik"


def test_status_machine() -> None:
    assert check_transition(Status.PENDING, Status.SUBMITTED, Status.CLEAN) is Status.CLEAN
    assert check_transition(Status.CLEAN, Status.SUBMITTED, Status.NEEDS_REVIEW) is Status.NEEDS_REVIEW
    with pytest.raises(InvalidTransition):
        check_transition(Status.INTERVIEWED, Status.SUBMITTED)
    with pytest.raises(InvalidTransition):
        check_transition(Status.PENDING, Status.CLEAN)
