"""The supervisors' review of flagged responses: the queue (households awaiting review,
oldest flag first, by area and reason), one household's response beside its register with
every earlier version, and the decision - accept as clean, or send to the field - with a
note, one at a time or in bulk.

A decision is a conditional write on the version the supervisor saw: a correction that
arrives meanwhile wins, and the decision is refused with 409 `review_version_changed`. Its
status change moves the progress figures exactly once, from the table's stream
(shared/progress_stream.py; accepted: needs_review -> clean, off the worklist and out of the queue; sent to the field:
still needs_review and on the worklist, out of the queue), with its audit record."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import msgspec

from shared import audit, store
from shared.area_names import names_for
from shared.areas import area_code_parameter
from shared.errors import FieldProblem, Forbidden, ReviewNotPending, ReviewVersionChanged, ValidationFailed
from shared.household_access import validate_kk
from shared.intake import iso_utc
from shared.officers import OFFICER, Caller, require_supervisor_of
from shared.status import Status
from shared.text import has_control_characters
from shared.validation import Body, Invalid, parse_json, trimmed

IDENTITY = ("name", "sex", "birth_date", "relationship")
DETAILS = ("marital_status", "religion", "education", "citizenship", "lives_at_kk_address", "current_area_code")
REASONS = (
    "head_not_register_head",
    "child_age_implausible",
    "grandchild_age_implausible",
    "parent_age_implausible",
    "parent_in_law_age_implausible",
    "spouse_under_15",
    "member_missing_without_reason",
    "member_added_without_reason",
)
PAGE_SIZE, MAX_PAGE_SIZE, MAX_BULK = 50, 200, 100
_Note = Annotated[str, trimmed(max_length=500)]


class DecisionRequest(Body, frozen=True, kw_only=True):
    decision: Literal["accept", "visit"]
    version: Annotated[int, msgspec.Meta(ge=1)]
    note: _Note | None = None

    def check(self) -> None:
        _plain_note(self)


class Reviewed(Body, frozen=True, kw_only=True):
    kk: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    version: Annotated[int, msgspec.Meta(ge=1)]


class BulkDecisionRequest(Body, frozen=True, kw_only=True):
    decision: Literal["accept", "visit"]
    note: _Note | None = None
    households: Annotated[list[Reviewed], msgspec.Meta(min_length=1, max_length=MAX_BULK)]

    def check(self) -> None:
        _plain_note(self)


def _plain_note(request: DecisionRequest | BulkDecisionRequest) -> None:
    """A note without control characters; an empty one is no note."""
    if request.note is not None and has_control_characters(request.note):
        raise Invalid("the note contains control characters", "note")
    if request.note == "":
        msgspec.structs.force_setattr(request, "note", None)


# ---------------------------------------------------------------- comparison (pure)


def compare_with_register(
    register: list[dict[str, Any]], members: list[dict[str, Any]], departed: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Each register member beside their answer (unchanged, changed with the fields that
    changed, departed with the reason, or missing without one), then each added member."""
    answered = {m["nik"]: m for m in members}
    gone = {d["nik"]: d.get("reason") for d in departed}
    rows: list[dict[str, Any]] = []
    for person in register:
        nik = person["nik"]
        response = answered.get(nik)
        if response is None:
            change = "departed" if gone.get(nik) else "missing"
            rows.append(
                {
                    "nik": nik,
                    "change": change,
                    "register": person,
                    "response": None,
                    "changed": [],
                    "reason": gone.get(nik),
                }
            )
            continue
        changed = [f for f in IDENTITY if str(response.get(f)) != str(person.get(f))]
        rows.append(
            {
                "nik": nik,
                "change": "changed" if changed else "unchanged",
                "register": person,
                "response": response,
                "changed": changed,
                "reason": None,
            }
        )
    on_register = {p["nik"] for p in register}
    for response in members:
        if response["nik"] not in on_register:
            rows.append(
                {
                    "nik": response["nik"],
                    "change": "added",
                    "register": None,
                    "response": response,
                    "changed": [],
                    "reason": response.get("added_because"),
                }
            )
    return rows


def version_changes(previous: list[dict[str, Any]] | None, members: list[dict[str, Any]]) -> dict[str, Any]:
    """What a version changed from the one before it (the register's members for version 1)."""
    before = {m["nik"]: m for m in previous or []}
    after = {m["nik"]: m for m in members}
    changed = []
    for nik in sorted(set(before) & set(after)):
        fields = [
            f for f in (*IDENTITY, *DETAILS) if f in before[nik] and str(before[nik].get(f)) != str(after[nik].get(f))
        ]
        if fields:
            changed.append({"nik": nik, "fields": fields})
    return {"added": sorted(set(after) - set(before)), "removed": sorted(set(before) - set(after)), "changed": changed}


# ---------------------------------------------------------------- the queue


def _reason(raw: str | None) -> str | None:
    if raw in (None, ""):
        return None
    if raw not in REASONS:
        raise ValidationFailed(
            [FieldProblem("invalid_choice", f"reason must be one of {', '.join(REASONS)}.", "reason")]
        )
    return raw


def _decode_queue_cursor(cursor: str | None, regency: str) -> dict[str, Any] | None:
    if not cursor:
        return None
    start = store.queue_start(audit.parse_cursor(cursor), regency)
    if start is None:
        raise audit.invalid_cursor()
    return start


def review_queue(
    caller: Caller, area: str, reason: str | None, cursor: str | None, limit: str | None
) -> dict[str, Any]:
    area = area_code_parameter(area)
    if len(area) < 4:
        raise ValidationFailed([FieldProblem("area_too_large", "Review a regency or anything inside it.", "area_code")])
    require_supervisor_of(caller, area)
    regency = area[:4]
    entries, last = store.queue_page(
        regency,
        area,
        _reason(reason),
        audit.page_limit(limit, PAGE_SIZE, MAX_PAGE_SIZE),
        _decode_queue_cursor(cursor, regency),
    )
    return {
        "area_code": area,
        "reason": reason or None,
        "households": [
            {
                "kk": e.kk,
                "sls_code": e.sls_code,
                "flagged_at": e.flagged_at,
                "version": e.version,
                "status": e.status,
                "reasons": list(e.reasons),
            }
            for e in entries
        ],
        "next_cursor": audit.encode_cursor(last),
        "area_names": names_for(area, {e.sls_code for e in entries}),
    }


# ---------------------------------------------------------------- one household


def _supervised_household(caller: Caller, kk: str) -> store.HouseholdSnapshot:
    kk = validate_kk(kk)
    household = store.load_household(kk)
    if household is None:
        raise Forbidden()  # an unknown KK looks like one of another area
    require_supervisor_of(caller, household.register.sls_code)
    return household


def household_review(caller: Caller, kk: str) -> dict[str, Any]:
    """The latest response beside the register, why it was flagged, and every version."""
    household = _supervised_household(caller, kk)
    kk = household.state.kk
    register = [
        {"nik": m.nik, "name": m.name, "sex": m.sex, "birth_date": m.birth_date, "relationship": m.relationship}
        for m in household.register.members
    ]
    versions = sorted(store.list_versions(kk), key=lambda v: v.version)
    latest = versions[-1] if versions else None
    history = []
    previous: list[dict[str, Any]] | None = register
    for v in versions:
        members = [dict(m) for m in v.members]
        history.append(
            {
                "version": int(v.version),
                "channel": v.channel,
                "status": v.status,
                "submitted_at": v.submitted_at,
                "review_reasons": list(v.review_reasons or []),
                "members": members,
                "departed": [dict(d) for d in v.departed or []],
                "changes": version_changes(previous, members),
            }
        )
        previous = members
    state = household.state
    return {
        "kk": kk,
        "sls_code": household.register.sls_code,
        "address": household.register.address,
        "status": state.status,
        "version": state.version,
        "in_review_queue": state.in_review,
        "flagged_at": state.flagged_at,
        "reasons": list(state.review_reasons or (latest.review_reasons if latest else [])),
        "register": {"head_nik": household.register.head_nik, "members": register},
        "comparison": compare_with_register(
            register,
            [dict(m) for m in latest.members] if latest else [],
            [dict(d) for d in (latest.departed or [])] if latest else [],
        ),
        "versions": history,
        "decisions": [
            {
                "decision": d.decision,
                "version": int(d.version),
                "decided_by": d.decided_by,
                "decided_at": d.decided_at,
                "note": d.note,
            }
            for d in store.decisions_of(kk)
        ],
        "area_names": names_for(household.register.sls_code),
    }


# ---------------------------------------------------------------- decisions


def _assignment_for(household: store.HouseholdSnapshot, generated_at: str) -> store.AssignmentRecord | None:
    """Sent to the field: if no worklist holds the household yet, the officer who visits its
    SLS gets it (their app picks it up at its next sync)."""
    sls, kk = household.register.sls_code, household.state.kk
    if store.get_assignment(sls, kk) is not None:
        return None
    officers = [e.officer for e in store.roster_within(sls) if e.role == OFFICER]
    officer = covering_officer(sls, store.area_assignments(sls[:10]), officers)
    if officer is None:
        return None
    return store.AssignmentRecord(
        kk=kk,
        sls_code=sls,
        officer_id=officer,
        area=sls,
        generated_at=generated_at,
        address=household.register.address,
        head_name=household.state.head_name,
    )


def covering_officer(sls_code: str, assignments: list[store.AssignmentRecord], officers: list[str]) -> str | None:
    """Who should visit a household of `sls_code` sent to the field without an assignment: the
    officer holding most of that SLS's assignments, else the first officer covering it."""
    counts: dict[str, int] = {}
    for a in assignments:
        if a.sls_code == sls_code:
            counts[a.officer_id] = counts.get(a.officer_id, 0) + 1
    if counts:
        return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
    return sorted(officers)[0] if officers else None


def _decide(
    caller: Caller, household: store.HouseholdSnapshot, decision: str, version: int, note: str | None, now: datetime
) -> dict[str, Any]:
    state = household.state
    kk = state.kk
    if state.version != version:
        raise ReviewVersionChanged()
    if state.status != Status.NEEDS_REVIEW.value or not state.in_review:
        raise ReviewNotPending()
    at = iso_utc(now)
    accept = decision == "accept"
    new_status = Status.CLEAN.value if accept else Status.NEEDS_REVIEW.value
    action = audit.REVIEW_ACCEPTED if accept else audit.REVIEW_SENT_TO_FIELD
    assignment = None if accept else _assignment_for(household, at)
    record = audit.record(
        action,
        caller.officer_id,
        household.register.sls_code,
        at,
        kk=kk,
        version=version,
        note_given=note is not None,
        **({"assigned_to": assignment.officer_id} if assignment is not None else {}),
    )
    change = store.ReviewChange(
        kk=kk,
        sls_code=household.register.sls_code,
        expected_version=version,
        new_status=new_status,
        leave_worklist=accept,
        decision=store.DecisionRecord(decision, version, caller.officer_id, at, note),
        audit=record,
        assignment=assignment,
    )
    store.save_decision(change)
    return {
        "kk": kk,
        "decision": decision,
        "status": new_status,
        "version": version,
        "decided_at": at,
        "decided_by": caller.officer_id,
    }


def decide_one(caller: Caller, kk: str, body: str | bytes | None, *, now: datetime | None = None) -> dict[str, Any]:
    request = parse_json(DecisionRequest, body)
    household = _supervised_household(caller, kk)
    return _decide_with_retry(caller, household, request.decision, request.version, request.note, now)


def _decide_with_retry(
    caller: Caller,
    household: store.HouseholdSnapshot,
    decision: str,
    version: int,
    note: str | None,
    now: datetime | None,
) -> dict[str, Any]:
    kk = household.state.kk
    for _ in range(3):
        try:
            return _decide(caller, household, decision, version, note, now or datetime.now(UTC))
        except store.DecisionConflict:
            # Lost to another writer: a correction (then the checks above refuse), another
            # supervisor's decision, or a transient conflict (then it is tried again).
            household = store.load_household(kk) or household
    raise ReviewVersionChanged()


def decide_many(caller: Caller, area: str, body: str | bytes | None, *, now: datetime | None = None) -> dict[str, Any]:
    """The same decision for many households (those the supervisor saw in a filtered list):
    each its own conditional transaction; refused ones are listed with why."""
    area = area_code_parameter(area)
    require_supervisor_of(caller, area)
    request = parse_json(BulkDecisionRequest, body)
    decided, refused = [], []
    for item in request.households:
        try:
            kk = validate_kk(item.kk)
            household = store.load_household(kk)
            if household is None or not household.register.sls_code.startswith(area):
                raise Forbidden()
            decided.append(_decide_with_retry(caller, household, request.decision, item.version, request.note, now))
        except (ValidationFailed, Forbidden, ReviewNotPending, ReviewVersionChanged) as error:
            refused.append({"kk": item.kk, "code": error.code})
    return {"area_code": area, "decision": request.decision, "decided": decided, "refused": refused}
