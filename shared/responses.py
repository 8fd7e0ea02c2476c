"""The household response: its shape (msgspec structs, strict JSON decoding), the rules that
reject it (422 with the offending field's path), and the consistency checks that accept
it but mark it for review."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, timedelta, timezone
from typing import Annotated, Any, Protocol

import msgspec

from shared.areas import validate_area_code
from shared.errors import FieldProblem, ValidationFailed
from shared.nik import InvalidIdentifier, check_nik_against, parse_nik
from shared.text import has_control_characters
from shared.validation import Body, Password, as_json, parse_json, trimmed
from shared.vocabulary import (
    AddedBecause,
    Citizenship,
    DepartureReason,
    Education,
    MaritalStatus,
    Relationship,
    Religion,
    Sex,
)

MAX_MEMBERS = 30
# A birth date is "in the future" only once it is tomorrow in Indonesia's easternmost zone
# (WIT, UTC+9): a baby born today in Jayapura is not rejected by a server clock in UTC.
_EASTERNMOST = timezone(timedelta(hours=9))
WIB = timezone(timedelta(hours=7))
_EARLIEST_BIRTH = date(1900, 1, 1)
# Relationship age gaps below these are implausible (not impossible): review, don't reject.
MIN_GENERATION_GAP_YEARS = 12
MIN_SPOUSE_AGE = 15

Name = Annotated[str, trimmed(1, 100)]
Code = Annotated[str, trimmed(max_length=32)]


class Member(Body, frozen=True, kw_only=True):
    nik: Code
    name: Name
    relationship: Relationship
    sex: Sex
    birth_date: date
    marital_status: MaritalStatus
    religion: Religion
    education: Education
    citizenship: Citizenship
    lives_at_kk_address: bool
    current_area_code: Code | None = None
    # For a member who is not on the register: why they are in the household now.
    added_because: AddedBecause | None = None


class Departure(Body, frozen=True, kw_only=True):
    """A register member left out of the response, and why."""

    nik: Code
    reason: DepartureReason | None = None


class Submission(Body, frozen=True, kw_only=True):
    # Who answers: required without a session; a session supplies its member's NIK.
    respondent_nik: Code | None = None
    # Required once the household has set one (a session has already checked it). Never stored.
    password: Password | None = None
    members: Annotated[list[Member], msgspec.Meta(min_length=1, max_length=MAX_MEMBERS)]
    departed: Annotated[list[Departure], msgspec.Meta(max_length=MAX_MEMBERS)] = msgspec.field(default_factory=list)


def parse_submission(body: str | bytes | None) -> Submission:
    """Parse a request body; 400 if it is not JSON, 422 listing every shape problem."""
    return parse_json(Submission, body)


def latest_today(now: datetime) -> date:
    return now.astimezone(_EASTERNMOST).date()


class MemberFields(Protocol):
    """A member's answers as far as given: a submitted member has all, a draft's any."""

    @property
    def nik(self) -> str | None: ...
    @property
    def name(self) -> str | None: ...
    @property
    def sex(self) -> Sex | None: ...
    @property
    def birth_date(self) -> date | None: ...
    @property
    def lives_at_kk_address(self) -> bool | None: ...
    @property
    def current_area_code(self) -> str | None: ...


def member_problems(member: MemberFields, at: str, today: date, *, complete: bool = True) -> list[FieldProblem]:
    """The per-field rules of one member, for the fields it has (a draft's may be partial)."""
    problems: list[FieldProblem] = []
    if member.name is not None and has_control_characters(member.name):
        why = "The name contains control or invisible characters."
        problems.append(FieldProblem("invalid_name", why, f"{at}.name"))
    birth_date = member.birth_date
    if birth_date is not None and birth_date > today:
        problems.append(FieldProblem("future_date", "The birth date is in the future.", f"{at}.birth_date"))
    elif birth_date is not None and birth_date < _EARLIEST_BIRTH:
        problems.append(FieldProblem("invalid_date", "The birth date is before 1900.", f"{at}.birth_date"))
    if member.nik is not None:
        try:
            if member.sex is not None and birth_date is not None:
                check_nik_against(member.nik, sex=member.sex.value, birth_date=birth_date)
            else:
                parse_nik(member.nik)
        except InvalidIdentifier as exc:
            problems.append(FieldProblem(exc.code, exc.message, f"{at}.nik"))
    problems.extend(_residence_problems(member, at, complete=complete))
    return problems


def departure_problems(departed: Collection[Departure], present: Collection[str]) -> list[FieldProblem]:
    """Each departure names a well-formed NIK once, and not one that is also in `members`."""
    problems: list[FieldProblem] = []
    seen: set[str] = set()
    for i, departure in enumerate(departed):
        at = f"departed[{i}].nik"
        try:
            parse_nik(departure.nik)
        except InvalidIdentifier as exc:
            problems.append(FieldProblem(exc.code, exc.message, at))
        if departure.nik in seen:
            problems.append(FieldProblem("duplicate_nik", "This NIK is already listed under departed.", at))
        elif departure.nik in present:
            problems.append(
                FieldProblem("departed_and_present", "This NIK is both among the members and departed.", at)
            )
        seen.add(departure.nik)
    return problems


def check_rules(submission: Submission, now: datetime) -> None:
    """Reject a response that breaks a rule of the brief; report every problem with its path."""
    problems: list[FieldProblem] = []
    today = latest_today(now)
    if submission.respondent_nik is None:
        problems.append(
            FieldProblem(
                "missing_field",
                "Give respondent_nik, or sign in and send the session token.",
                "respondent_nik",
            )
        )
    else:
        try:
            parse_nik(submission.respondent_nik)
        except InvalidIdentifier as exc:
            problems.append(FieldProblem(exc.code, exc.message, "respondent_nik"))

    seen: dict[str, int] = {}
    heads = 0
    for i, member in enumerate(submission.members):
        at = f"members[{i}]"
        heads += member.relationship is Relationship.HEAD
        problems.extend(member_problems(member, at, today))
        if member.nik in seen:
            problems.append(
                FieldProblem(
                    "duplicate_nik",
                    f"This NIK is already given for members[{seen[member.nik]}].",
                    f"{at}.nik",
                )
            )
        seen.setdefault(member.nik, i)
    problems.extend(departure_problems(submission.departed, seen))
    if heads != 1:
        problems.append(FieldProblem("head_count", f"Exactly one member must be the head; found {heads}.", "members"))
    if problems:
        raise ValidationFailed(problems)


def check_against_register(submission: Submission, register_niks: Collection[str]) -> None:
    """What can only be judged knowing the register (so after the household is proven)."""
    problems = [
        FieldProblem("departed_not_on_register", "Only a member on the register can be listed as departed.", at)
        for at, nik in ((f"departed[{i}].nik", d.nik) for i, d in enumerate(submission.departed))
        if nik not in register_niks
    ]
    problems += [
        FieldProblem(
            "added_because_for_register_member",
            "added_because is only for a member who is not on the register.",
            f"members[{i}].added_because",
        )
        for i, m in enumerate(submission.members)
        if m.added_because is not None and m.nik in register_niks
    ]
    if problems:
        raise ValidationFailed(problems)


def register_review_reasons(submission: Submission, register_niks: Collection[str]) -> list[str]:
    """Changes against the register that are accepted but need a look: a register member
    missing without a reason, or a new member without one."""
    present = {m.nik for m in submission.members}
    departed = {d.nik: d.reason for d in submission.departed}
    reasons: list[str] = []
    if any(nik not in present and departed.get(nik) is None for nik in register_niks):
        reasons.append("member_missing_without_reason")
    if any(m.nik not in register_niks and m.added_because is None for m in submission.members):
        reasons.append("member_added_without_reason")
    return reasons


def _residence_problems(member: MemberFields, at: str, *, complete: bool = True) -> list[FieldProblem]:
    field = f"{at}.current_area_code"
    if member.lives_at_kk_address is None:
        return _area_code_problems(member.current_area_code, field)
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
        if not complete:
            return []
        return [
            FieldProblem(
                "missing_current_area_code",
                "A member who does not live at the KK address needs current_area_code.",
                field,
            )
        ]
    return _area_code_problems(member.current_area_code, field)


def _area_code_problems(code: str | None, field: str) -> list[FieldProblem]:
    if code is None:
        return []
    try:
        validate_area_code(code)
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


def canonical_members(submission: Submission, register_niks: Collection[str]) -> list[dict[str, Any]]:
    """Members as JSON-ready dicts (enum values, ISO dates) as stored, each saying whether
    it came from the register."""
    return [{**as_json(m), "from_register": m.nik in register_niks} for m in submission.members]


def canonical_departed(submission: Submission) -> list[dict[str, Any]]:
    return [as_json(d) for d in submission.departed]
