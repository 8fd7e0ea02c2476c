"""The household response: its shape (pydantic, strict JSON parsing), the rules that
reject it (422 with the offending field's path), and the consistency checks that accept
it but mark it for review."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from shared.areas import validate_area_code
from shared.errors import FieldProblem, ValidationFailed
from shared.nik import InvalidIdentifier, check_nik_against, parse_nik
from shared.text import has_control_characters
from shared.validation import parse_json
from shared.vocabulary import Citizenship, Education, MaritalStatus, Relationship, Religion, Sex

MAX_MEMBERS = 30
# A birth date is "in the future" only once it is tomorrow in Indonesia's easternmost zone
# (WIT, UTC+9): a baby born today in Jayapura is not rejected by a server clock in UTC.
_EASTERNMOST = timezone(timedelta(hours=9))
WIB = timezone(timedelta(hours=7))
_EARLIEST_BIRTH = date(1900, 1, 1)
# Relationship age gaps below these are implausible (not impossible): review, don't reject.
MIN_GENERATION_GAP_YEARS = 12
MIN_SPOUSE_AGE = 15

_Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)]


class Member(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    nik: Code
    name: _Text
    relationship: Relationship
    sex: Sex
    birth_date: date
    marital_status: MaritalStatus
    religion: Religion
    education: Education
    citizenship: Citizenship
    lives_at_kk_address: bool
    current_area_code: Code | None = None


class Submission(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    respondent_nik: Code
    members: Annotated[list[Member], Field(min_length=1, max_length=MAX_MEMBERS)]


def parse_submission(body: str | bytes | None) -> Submission:
    """Parse a request body; 400 if it is not JSON, 422 listing every shape problem."""
    return parse_json(Submission, body)


def latest_today(now: datetime) -> date:
    return now.astimezone(_EASTERNMOST).date()


def check_rules(submission: Submission, now: datetime) -> None:
    """Reject a response that breaks a rule of the brief; report every problem with its path."""
    problems: list[FieldProblem] = []
    today = latest_today(now)
    try:
        parse_nik(submission.respondent_nik)
    except InvalidIdentifier as exc:
        problems.append(FieldProblem(exc.code, exc.message, "respondent_nik"))

    seen: dict[str, int] = {}
    heads = 0
    for i, member in enumerate(submission.members):
        at = f"members[{i}]"
        heads += member.relationship is Relationship.HEAD
        if has_control_characters(member.name):
            problems.append(FieldProblem("invalid_name", "The name contains control characters.", f"{at}.name"))
        if member.birth_date > today:
            problems.append(FieldProblem("future_date", "The birth date is in the future.", f"{at}.birth_date"))
        elif member.birth_date < _EARLIEST_BIRTH:
            problems.append(FieldProblem("invalid_date", "The birth date is before 1900.", f"{at}.birth_date"))
        try:
            check_nik_against(member.nik, sex=member.sex.value, birth_date=member.birth_date)
        except InvalidIdentifier as exc:
            problems.append(FieldProblem(exc.code, exc.message, f"{at}.nik"))
        if member.nik in seen:
            problems.append(
                FieldProblem(
                    "duplicate_nik",
                    f"This NIK is already given for members[{seen[member.nik]}].",
                    f"{at}.nik",
                )
            )
        seen.setdefault(member.nik, i)
        problems.extend(_residence_problems(member, at))
    if heads != 1:
        problems.append(FieldProblem("head_count", f"Exactly one member must be the head; found {heads}.", "members"))
    if problems:
        raise ValidationFailed(problems)


def _residence_problems(member: Member, at: str) -> list[FieldProblem]:
    field = f"{at}.current_area_code"
    if member.lives_at_kk_address:
        if member.current_area_code is not None:
            return [
                FieldProblem(
                    "unexpected_current_area_code",
                    "Give current_area_code only for a member who does not live at the KK address.",
                    field,
                )
            ]
        return []
    if member.current_area_code is None:
        return [
            FieldProblem(
                "missing_current_area_code",
                "A member who does not live at the KK address needs current_area_code.",
                field,
            )
        ]
    try:
        validate_area_code(member.current_area_code)
    except InvalidIdentifier as exc:
        return [FieldProblem(exc.code, exc.message, field)]
    return []


def _years_between(earlier: date, later: date) -> int:
    """Whole years from `earlier` to `later` (negative if `later` comes first)."""
    if later < earlier:
        return -_years_between(later, earlier)
    return later.year - earlier.year - ((later.month, later.day) < (earlier.month, earlier.day))


def review_reasons(submission: Submission, register_head_nik: str | None, now: datetime) -> list[str]:
    """Consistency checks that do not reject the form but mark it `needs_review`."""
    reasons: list[str] = []
    head = next(m for m in submission.members if m.relationship is Relationship.HEAD)
    if register_head_nik is not None and head.nik != register_head_nik:
        reasons.append("head_not_register_head")
    today = now.astimezone(WIB).date()
    younger_by = {  # relationship -> minimum years the member is younger than the head
        Relationship.CHILD: MIN_GENERATION_GAP_YEARS,
        Relationship.GRANDCHILD: 2 * MIN_GENERATION_GAP_YEARS,
        Relationship.PARENT: -MIN_GENERATION_GAP_YEARS,
        Relationship.PARENT_IN_LAW: -MIN_GENERATION_GAP_YEARS,
    }
    for member in submission.members:
        gap = younger_by.get(member.relationship)
        if gap is not None:
            years_younger = _years_between(head.birth_date, member.birth_date)
            implausible = years_younger < gap if gap > 0 else years_younger > gap
            reason = f"{member.relationship.value}_age_implausible"
            if implausible and reason not in reasons:
                reasons.append(reason)
        if (
            member.relationship is Relationship.SPOUSE
            and _years_between(member.birth_date, today) < MIN_SPOUSE_AGE
            and "spouse_under_15" not in reasons
        ):
            reasons.append("spouse_under_15")
    return reasons


def canonical_members(submission: Submission) -> list[dict[str, Any]]:
    """Members as JSON-ready dicts (enum values, ISO dates): what is stored and hashed."""
    return [m.model_dump(mode="json") for m in submission.members]
